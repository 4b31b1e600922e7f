using System.Diagnostics;
using System.Text.Json.Nodes;
using MultiTeacher.Tokenization;

namespace MultiTeacher.Tests.Reliability;

/// <summary>Files for hostile cases: a small valid byte-level BPE tokenizer to mutate, FIFOs, links.</summary>
public static class HostileFiles
{
    /// <summary>A complete byte-level BPE tokenizer.json (256 byte tokens, four merges, one special token), as a tree to mutate.</summary>
    public static JsonObject Tokenizer()
    {
        var vocab = new JsonObject();
        for (var b = 0; b < 256; b++) vocab[ByteLevelAlphabet.ByteToChar[b].ToString()] = b;
        string[] merges = ["Ġ t", "h e", "Ġt he", "l l"];
        for (var i = 0; i < merges.Length; i++) vocab[merges[i].Replace(" ", "")] = 256 + i;
        JsonObject ByteLevel() => new() { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = true };
        return new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = new JsonArray(new JsonObject
            {
                ["id"] = 260, ["content"] = "<|end|>", ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false, ["normalized"] = false, ["special"] = true,
            }),
            ["normalizer"] = null,
            ["pre_tokenizer"] = ByteLevel(),
            ["post_processor"] = ByteLevel(),
            ["decoder"] = ByteLevel(),
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = null, ["fuse_unk"] = false, ["byte_fallback"] = false, ["ignore_merges"] = false,
                ["vocab"] = vocab, ["merges"] = new JsonArray([.. merges.Select(m => (JsonNode)m!)]),
            },
        };
    }

    /// <summary>A tokenizer directory holding <paramref name="tokenizerJson"/> and a matching tokenizer_config.json.</summary>
    public static string TokenizerDir(string root, string name, string tokenizerJson)
    {
        var dir = Path.Combine(root, name);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), tokenizerJson);
        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), """{ "eos_token": "<|end|>", "add_bos_token": false }""");
        return dir;
    }

    public static string Fifo(string path)
    {
        using var mkfifo = Process.Start("mkfifo", [path])!;
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
        return path;
    }

    public static string Link(string path, string target)
    {
        File.CreateSymbolicLink(path, target);
        return path;
    }
}
