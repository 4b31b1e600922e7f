using MultiTeacher.Mixing;
using YamlDotNet.RepresentationModel;

namespace MultiTeacher.Recipes;

/// <summary>The checks that relate several keys, and the defaults that depend on other keys.</summary>
internal static class RecipeRules
{
    /// <summary>Micro-batch tokens above this would need gigabytes of activations and logits on any student.</summary>
    public const long MaxBatchTokens = 1 << 20;

    public static Recipe Check(SettingsReader r, YamlMappingNode root, Recipe recipe)
    {
        var section = (string key) => r.Node(root, key) as YamlMappingNode ?? root;
        // On CPU, TorchSharp's kernels give identical results for a fixed thread count, which is what a replay needs.
        if (recipe.Deterministic && recipe.Threads == 0) r.Error(r.Node(root, "deterministic")!, "a deterministic run needs a fixed thread count: add 'threads: N'");

        Teachers(r, root, recipe);
        var s = recipe.Student;
        if ((s.Init is null) == (s.Config is null) && r.Node(root, "student") is YamlMappingNode)
            r.Error(section("student"), "student needs exactly one of 'init' (a model directory) or 'config' (a config.json, with 'tokenizer')");
        if (s.Config is not null && s.Tokenizer is null) r.Error(section("student"), "a student built from 'config' needs 'tokenizer' (a tokenizer directory)");

        if (recipe.Mixing.Policy is MixingPolicyKind.Weighted or MixingPolicyKind.Product && recipe.Teachers.Count > 0 && recipe.Teachers.All(t => t.Weight == 0))
            r.Error(r.Node(root, "teachers")!, $"every teacher has weight 0, so the '{Settings.SettingNames.Of(recipe.Mixing.Policy)}' policy has nothing to blend");

        var loss = section("loss");
        if (recipe.Teachers.Count == 0)
        {
            if (r.Node(loss, "hard_label_weight") is { } node && recipe.Loss.HardLabelWeight != 1.0)
                r.Error(node, "without teachers only the hard label trains: hard_label_weight must be 1");
            recipe = recipe with { Loss = recipe.Loss with { HardLabelWeight = 1.0 } };
        }

        var train = section("train");
        if (recipe.Train.WarmupSteps > recipe.Train.Steps && r.Node(train, "warmup_steps") is { } warmup)
            r.Error(warmup, $"warmup_steps {recipe.Train.WarmupSteps} exceeds steps {recipe.Train.Steps}");
        if (recipe.Train.LogitsChunk > 0 && recipe.Loss.PerTeacher && recipe.Teachers.Count > 0 && r.Node(train, "logits_chunk") is { } chunk)
            r.Error(chunk, $"logits_chunk works with the blended objectives (forward_kl, reverse_kl, jsd, tv); loss kind '{Settings.SettingNames.Of(recipe.Loss.Kind)}' needs the whole batch's logits: remove it or set it to 0");
        var tokens = (long)recipe.Train.BatchSize * recipe.Data.SequenceLength;
        if (tokens > MaxBatchTokens)
            r.Error(r.Node(train, "batch_size") ?? r.Node(section("data"), "seq_len") ?? root,
                $"batch_size × seq_len is {tokens:N0} tokens per micro-batch, at most {MaxBatchTokens:N0}: use grad_accum for larger steps");

        return recipe.Output.Length > 0 ? recipe : recipe with { Output = Path.GetFullPath(Path.Combine("runs", recipe.Name)) };
    }

    private static void Teachers(SettingsReader r, YamlMappingNode root, Recipe recipe)
    {
        if (r.Node(root, "teachers") is not YamlSequenceNode items) return;
        for (var i = 1; i < recipe.Teachers.Count; i++)
        {
            var t = recipe.Teachers[i];
            var earlier = recipe.Teachers.Take(i);
            if (t.Name.Length > 0 && earlier.Any(o => o.Name == t.Name)) r.Error(items.Children[i], $"teacher '{t.Name}' is listed twice");
            else if (t.Path.Length > 0 && earlier.Any(o => o.Path == t.Path)) r.Error(items.Children[i], $"teacher path {t.Path} is listed twice");
        }
    }
}
