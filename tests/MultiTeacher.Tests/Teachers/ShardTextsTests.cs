using MultiTeacher.Cache;
using MultiTeacher.Data;
using MultiTeacher.Teachers;

namespace MultiTeacher.Tests.Teachers;

[Trait("Category", TestCategory.Unit)]
public sealed class ShardTextsTests : TempDirectoryTest
{
    private static readonly string[] Texts =
    [
        "The Fulton County Grand Jury said Friday an investigation",
        "東京は日本の首都です。 Emoji 😀 and   runs of   spaces\n\nand new lines.",
        "x",
        "It recommended that Fulton legislators act",
        "ünïcødé at the end ",
    ];

    private static readonly DataSettings Data = new() { Train = "train.txt", SequenceLength = 64 };

    [Fact]
    public void EveryShardsTextsComeBackExactly_WithTheShardCount()
    {
        // Samples of 1 token each, shards of 2 tokens: [0, 1], [2, 3], [4].
        var plan = CacheShardPlan.For([1, 1, 1, 1, 1], 2);
        ShardTexts.WriteAll(TempDir, "data", "tokenizer", Data, 2, plan, Texts);
        string[][] expected = [[Texts[0], Texts[1]], [Texts[2], Texts[3]], [Texts[4]]];
        for (var s = 0; s < 3; s++)
        {
            var read = ShardTexts.TryRead(TempDir, ShardTexts.KeyFor("data", "tokenizer", Data, 2, s), out var problem);
            Assert.Null(problem);
            Assert.Equal(expected[s], read!.Value.Texts);
            Assert.Equal(3, read.Value.Shards);
        }
    }

    [Fact]
    public void WritingAgainLeavesSoundFilesAlone_AndReplacesADamagedOne()
    {
        var plan = CacheShardPlan.For([1, 1, 1, 1, 1], 2);
        ShardTexts.WriteAll(TempDir, "data", "tokenizer", Data, 2, plan, Texts);
        var paths = Enumerable.Range(0, 3).Select(s => ShardTexts.PathFor(TempDir, ShardTexts.KeyFor("data", "tokenizer", Data, 2, s))).ToList();
        var old = DateTime.UtcNow.AddHours(-1);
        foreach (var p in paths) File.SetLastWriteTimeUtc(p, old);
        var bytes = File.ReadAllBytes(paths[1]);
        bytes[^40] ^= 1;
        File.WriteAllBytes(paths[1], bytes);
        File.SetLastWriteTimeUtc(paths[1], old);

        ShardTexts.WriteAll(TempDir, "data", "tokenizer", Data, 2, plan, Texts);
        Assert.Equal(old, File.GetLastWriteTimeUtc(paths[0]));
        Assert.Equal(old, File.GetLastWriteTimeUtc(paths[2]));
        Assert.NotEqual(old, File.GetLastWriteTimeUtc(paths[1]));
        Assert.Equal([Texts[2], Texts[3]], ShardTexts.TryRead(TempDir, ShardTexts.KeyFor("data", "tokenizer", Data, 2, 1), out _)!.Value.Texts);
    }

    [Fact]
    public void TheKeyChangesWithEveryInputThatChangesTheTexts()
    {
        var keys = new[]
        {
            ShardTexts.KeyFor("data", "tokenizer", Data, 2, 0),
            ShardTexts.KeyFor("data2", "tokenizer", Data, 2, 0),
            ShardTexts.KeyFor("data", "tokenizer2", Data, 2, 0),
            ShardTexts.KeyFor("data", "tokenizer", Data with { SequenceLength = 65 }, 2, 0),
            ShardTexts.KeyFor("data", "tokenizer", Data with { Packing = false }, 2, 0),
            ShardTexts.KeyFor("data", "tokenizer", Data with { Format = DataFormat.Jsonl }, 2, 0),
            ShardTexts.KeyFor("data", "tokenizer", Data with { Field = "body" }, 2, 0),
            ShardTexts.KeyFor("data", "tokenizer", Data, 3, 0),
            ShardTexts.KeyFor("data", "tokenizer", Data, 2, 1),
        };
        Assert.Equal(keys.Length, keys.Distinct().Count());
        // Where the data file lies does not change its samples: its content hash does.
        Assert.Equal(keys[0], ShardTexts.KeyFor("data", "tokenizer", Data with { Train = "/elsewhere/train.txt" }, 2, 0));
        // Under auto the file's name decides: the same bytes in a .txt and a .jsonl are read as other texts.
        var (txt, jsonl) = (Path.Combine(TempDir, "same.txt"), Path.Combine(TempDir, "same.jsonl"));
        File.WriteAllText(txt, "{\"text\": \"one\"}\n");
        File.Copy(txt, jsonl);
        Assert.Equal(keys[0], ShardTexts.KeyFor("data", "tokenizer", Data with { Train = txt }, 2, 0));
        Assert.Equal(keys[5], ShardTexts.KeyFor("data", "tokenizer", Data with { Train = jsonl }, 2, 0));
        // Auto reads a .txt as text: naming the format it resolves to keeps the key.
        Assert.Equal(keys[0], ShardTexts.KeyFor("data", "tokenizer", Data with { Format = DataFormat.Text }, 2, 0));
    }

    [Fact]
    public void AMissingDamagedOrForeignFileIsNotRead()
    {
        var plan = CacheShardPlan.For([1, 1, 1, 1, 1], 2);
        ShardTexts.WriteAll(TempDir, "data", "tokenizer", Data, 2, plan, Texts);
        var (first, second) = (ShardTexts.KeyFor("data", "tokenizer", Data, 2, 0), ShardTexts.KeyFor("data", "tokenizer", Data, 2, 1));

        Assert.Null(ShardTexts.TryRead(TempDir, ShardTexts.KeyFor("other", "tokenizer", Data, 2, 0), out var problem));
        Assert.Equal("missing", problem);

        // Shard 1's file where shard 0's should be: sound, but written for other inputs.
        File.Copy(ShardTexts.PathFor(TempDir, second), ShardTexts.PathFor(TempDir, first), overwrite: true);
        Assert.Null(ShardTexts.TryRead(TempDir, first, out problem));
        Assert.Equal("built for other inputs", problem);

        var path = ShardTexts.PathFor(TempDir, second);
        var bytes = File.ReadAllBytes(path);
        bytes[bytes.Length / 2] ^= 1;
        File.WriteAllBytes(path, bytes);
        Assert.Null(ShardTexts.TryRead(TempDir, second, out problem));
        Assert.StartsWith("checksum mismatch", problem);
    }
}
