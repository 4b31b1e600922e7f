using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace MultiTeacher.Lineage;

/// <summary>
/// The self-signed TLS certificate of the private server's TCP listener, made with .NET alone (no
/// openssl on the machine needed). It is its own root: a worker that has a copy verifies the server
/// with sslmode=verify-full, which a man in the middle cannot pass.
/// </summary>
public static class ServerCertificate
{
    public const string CertificateFile = "server.crt";
    public const string KeyFile = "server.key";

    /// <summary>
    /// Writes server.crt and server.key into <paramref name="directory"/> unless both exist. The key is
    /// 0600 from its first byte (PostgreSQL refuses a key others can read); the names it is valid for
    /// are this machine's, loopback, and <paramref name="listen"/> where that is one address.
    /// </summary>
    /// <returns>Whether files were written.</returns>
    public static bool EnsureIn(string directory, string? listen)
    {
        var certificate = Path.Combine(directory, CertificateFile);
        var key = Path.Combine(directory, KeyFile);
        if (File.Exists(certificate) && File.Exists(key)) return false;
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={Environment.MachineName}", ecdsa, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(SubjectAlternativeNames(listen));
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        var now = DateTimeOffset.UtcNow;
        using var made = request.CreateSelfSigned(now.AddMinutes(-5), now.AddYears(10));
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var file = new StreamWriter(key + ".tmp", options)) file.Write(ecdsa.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(certificate, made.ExportCertificatePem());
        File.Move(key + ".tmp", key, overwrite: true);
        return true;
    }

    /// <summary>The certificate's names: localhost, this host, loopback, and the listen address when it names one host.</summary>
    private static X509Extension SubjectAlternativeNames(string? listen)
    {
        var names = new SubjectAlternativeNameBuilder();
        var dns = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "localhost", Environment.MachineName };
        try { dns.Add(Dns.GetHostEntry(Environment.MachineName).HostName); }
        catch (System.Net.Sockets.SocketException) { }
        var addresses = new HashSet<IPAddress> { IPAddress.Loopback, IPAddress.IPv6Loopback };
        foreach (var part in (listen ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            if (IPAddress.TryParse(part, out var ip)) { if (!ip.Equals(IPAddress.Any) && !ip.Equals(IPAddress.IPv6Any)) addresses.Add(ip); }
            else if (part != "*") dns.Add(part);
        foreach (var name in dns) names.AddDnsName(name);
        foreach (var ip in addresses) names.AddIpAddress(ip);
        return names.Build();
    }
}
