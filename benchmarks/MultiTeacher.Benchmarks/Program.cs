using MultiTeacher.Assets;
using MultiTeacher.Benchmarks;
using MultiTeacher.Runtime;

// Runs the named benchmarks (default: all) and rewrites their sections of docs/benchmarks.md.
//   dotnet run --project benchmarks/MultiTeacher.Benchmarks -c Release -- [tokenize ...] [--no-write]
if (args is ["--merge-child", ..]) { GlibcAllocator.KeepFreedMemory(); return MergeBenchmark.RunChild(args); }
if (args is ["--logits-child", ..]) { GlibcAllocator.KeepFreedMemory(); return LogitsBenchmark.RunChild(args); }
if (args is [TeacherCachingChild.Flag, ..]) { GlibcAllocator.KeepFreedMemory(); return TeacherCachingChild.RunChild(args); }
if (args is [ScaleOutCeiling.Flag, ..]) { GlibcAllocator.KeepFreedMemory(); return ScaleOutCeiling.RunChild(args); }

var benchmarks = new Dictionary<string, Func<AssetStore, BenchmarkSection>>
{
    ["tokenize"] = TokenizeBenchmark.Run,
    ["alignment"] = AlignmentBenchmark.Run,
    ["model"] = ModelBenchmark.Run,
    ["distillation"] = DistillationBenchmark.Run,
    ["alm"] = AlmBenchmark.Run,
    ["lineage"] = LineageBenchmark.Run,
    ["jobs"] = JobsBenchmark.Run,
    ["dashboard"] = DashboardLoadBenchmark.Run,
    ["merge"] = MergeBenchmark.Run,
    ["logits"] = LogitsBenchmark.Run,
    ["precision"] = PrecisionBenchmark.Run,
    ["teacher-bf16"] = TeacherScaleBenchmark.RunBf16,
    ["teacher-8b"] = TeacherScaleBenchmark.Run8b,
    ["scaleout"] = ScaleOutBenchmark.Run,
};
var write = !args.Contains("--no-write");
var names = args.Where(a => !a.StartsWith("--")).DefaultIfEmpty("all").ToList();
if (names is ["all"]) names = [.. benchmarks.Keys];
var unknown = names.Where(n => !benchmarks.ContainsKey(n)).ToList();
if (unknown.Count > 0)
{
    Console.Error.WriteLine($"unknown benchmark(s): {string.Join(", ", unknown)}; known: {string.Join(", ", benchmarks.Keys)}");
    return 2;
}

GlibcAllocator.KeepFreedMemory();
var store = AssetStore.Default();
foreach (var name in names)
{
    var section = benchmarks[name](store);
    Console.WriteLine(section.Markdown);
    if (write) BenchmarkReport.Update(Path.Combine(BenchmarkReport.RepoRoot(), "docs", "benchmarks.md"), name, section);
}
return 0;
