using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.Playwright;
using MultiTeacher.Dashboard;

namespace MultiTeacher.Tests.Dashboard;

/// <summary>A started dashboard on a free loopback port and a headless Debian Chromium page, both closed on dispose.</summary>
public sealed class DashboardSession : IAsyncDisposable
{
    public const string Chromium = "/usr/bin/chromium";

    /// <summary>Where browser tests keep their screenshots (next to the test assembly).</summary>
    public static readonly string Screenshots = Path.Combine(AppContext.BaseDirectory, "screenshots");

    public required WebApplication App { get; init; }
    public required IPlaywright Playwright { get; init; }
    public required IBrowser Browser { get; init; }
    public required IPage Page { get; init; }
    public required string Url { get; init; }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static async Task<DashboardSession> Start(string db, string cacheRoot)
    {
        Assert.True(File.Exists(Chromium), "Debian's chromium is not installed (scripts/bootstrap.sh installs it)");
        var url = $"http://127.0.0.1:{FreePort()}";
        var app = DashboardApp.Build(new DashboardSettings(db, [url], null, false, cacheRoot) { AssetRoot = TestAssets.Store.Root, Nice = 0 });
        await app.StartAsync();
        var playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = Chromium, Headless = true, Args = ["--no-sandbox"] });
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1280, Height = 900 } });
        // A script error on any page fails the test that caused it, instead of leaving a blank chart.
        var errors = new List<string>();
        page.PageError += (_, e) => errors.Add(e);
        return new DashboardSession { App = app, Playwright = playwright, Browser = browser, Page = page, Url = url, Errors = errors };
    }

    /// <summary>Uncaught script errors seen so far on the page.</summary>
    public required IReadOnlyList<string> Errors { get; init; }

    public async Task Screenshot(string name)
    {
        Directory.CreateDirectory(Screenshots);
        await Page.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, name), FullPage = true });
    }

    public async ValueTask DisposeAsync()
    {
        await Browser.DisposeAsync();
        Playwright.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
