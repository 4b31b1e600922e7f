using MultiTeacher.Data;
using MultiTeacher.Teachers;
using MultiTeacher.Tests.Integration;

namespace MultiTeacher.Tests.Teachers;

/// <summary>What a worker keeps between its cache jobs besides the teachers: the student tokenizer and the training samples.</summary>
[Trait("Category", TestCategory.Unit)]
public sealed class WarmTeachersTests : TempDirectoryTest
{
    [Fact]
    public void Samples_AreTokenizedOncePerDataHashTokenizerAndSettings()
    {
        new TinyRuns(TempDir).WriteData(trainDocuments: 1, trainChars: 1500);
        using var warm = new WarmTeachers(capacity: 1);
        var student = warm.Tokenizer(TestAssets.TokenizerDir("mistral-7b-v0.1"));
        var data = new DataSettings { Train = Path.Combine(TempDir, "train.txt"), SequenceLength = 32 };

        var first = warm.Samples(data, "hash-a", student);
        Assert.Same(first, warm.Samples(data, "hash-a", student));
        Assert.Equal(TrainingSamples.ForRecipe(data, student).Samples.Select(s => s.Text), first.Samples.Select(s => s.Text));
        Assert.NotSame(first, warm.Samples(data, "hash-b", student));
        var shorter = warm.Samples(data with { SequenceLength = 16 }, "hash-b", student);
        Assert.True(shorter.Samples.Count > first.Samples.Count);
    }

    [Fact]
    public void Tokenizer_IsLoadedAgainOnlyWhenItsFilesChange()
    {
        var dir = Path.Combine(TempDir, "tokenizer");
        Directory.CreateDirectory(dir);
        foreach (var file in Directory.GetFiles(TestAssets.TokenizerDir("mistral-7b-v0.1"))) File.Copy(file, Path.Combine(dir, Path.GetFileName(file)));
        using var warm = new WarmTeachers(capacity: 1);
        var first = warm.Tokenizer(dir);
        Assert.Same(first, warm.Tokenizer(dir));
        File.WriteAllText(Path.Combine(dir, "notes.txt"), "a file the tokenizer does not read still changes the directory");
        Assert.NotSame(first, warm.Tokenizer(dir));
    }
}
