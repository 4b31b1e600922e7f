using System.CommandLine;
using MultiTeacher.Lineage;

namespace MultiTeacher.Cli.Commands;

/// <summary>`mt db start|stop|status|url`: the private PostgreSQL that holds lineage (MT_DATABASE points elsewhere instead).</summary>
public static class DbCommand
{
    public static Command Create(CliIO io)
    {
        var listen = new Option<string?>("--listen") { Description = "Also serve TCP on these addresses (e.g. 0.0.0.0) for workers on other machines; clients give the password in $MT_DB_PASSWORD" };
        var tls = new Option<bool>("--tls") { Description = "With --listen: TCP clients must use TLS, with a self-signed certificate made in the data directory" };
        var start = new Command("start", "Start the private PostgreSQL (initialising it on first use) and apply migrations.") { listen, tls };
        start.SetAction(r =>
        {
            var address = r.GetValue(listen);
            if (address is null && r.GetValue(tls)) throw new BadInputException("--tls secures the TCP listener: give --listen ADDRESSES too");
            var db = address is null ? EmbeddedPostgres.Default()
                : new EmbeddedPostgres(EmbeddedPostgres.Default().Root) { Listen = address, Password = Environment.GetEnvironmentVariable("MT_DB_PASSWORD"), Tls = r.GetValue(tls) };
            var applied = Migrator.Apply(db.EnsureRunning());
            io.Out.WriteLine($"running: {db.DataDirectory} (socket {db.SocketDirectory}, port {db.Port}); {applied} migration(s) applied");
            if (address is not null)
                io.Out.WriteLine($"workers elsewhere: PGPASSWORD=... mt worker --database '{db.TcpUrl(EmbeddedPostgres.HostFor(address), db.Tls)}'"
                    + (db.Tls ? $" (copy {db.CertificatePath} to the same path on each worker's machine)" : ""));
            io.Out.WriteLine("it keeps running until `mt db stop`");
            return CliApp.Ok;
        });
        var stop = new Command("stop", "Stop the private PostgreSQL.");
        stop.SetAction(_ =>
        {
            EmbeddedPostgres.Default().Stop();
            io.Out.WriteLine("stopped");
            return CliApp.Ok;
        });
        var status = new Command("status", "Say whether the private PostgreSQL is running (exit 1 when not).");
        status.SetAction(_ =>
        {
            var db = EmbeddedPostgres.Default();
            io.Out.WriteLine(db.IsRunning ? $"running: {db.DataDirectory}" : $"not running: {db.DataDirectory}");
            return db.IsRunning ? CliApp.Ok : CliApp.Failure;
        });
        var url = new Command("url", "Print how to reach the private PostgreSQL: its TCP URL while it listens (verify-full against its certificate with TLS), else its socket's connection string.");
        url.SetAction(_ =>
        {
            io.Out.WriteLine(EmbeddedPostgres.Default().ClientUrl());
            return CliApp.Ok;
        });
        return new Command("db", "The lineage database.") { start, stop, status, url };
    }
}
