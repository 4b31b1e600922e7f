using MultiTeacher.Losses;
using MultiTeacher.Mixing;
using MultiTeacher.Settings;
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
            r.Error(r.Node(root, "teachers")!, $"every teacher has weight 0, so the '{SettingNames.Of(recipe.Mixing.Policy)}' policy has nothing to blend");

        recipe = PerTeacherMixing(r, root, recipe);

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
            r.Error(chunk, $"logits_chunk works with the blended objectives (forward_kl, reverse_kl, jsd, tv); loss kind '{SettingNames.Of(recipe.Loss.Kind)}' needs the whole batch's logits: remove it or set it to 0");
        var tokens = (long)recipe.Train.BatchSize * recipe.Data.SequenceLength;
        if (tokens > MaxBatchTokens)
            r.Error(r.Node(train, "batch_size") ?? r.Node(section("data"), "seq_len") ?? root,
                $"batch_size × seq_len is {tokens:N0} tokens per micro-batch, at most {MaxBatchTokens:N0}: use grad_accum for larger steps");

        return recipe.Output.Length > 0 ? recipe : recipe with { Output = Path.GetFullPath(Path.Combine("runs", recipe.Name)) };
    }

    /// <summary>
    /// Per-teacher terms (loss.kind alm, uld) are weighed per sequence, not blended: product, which
    /// pools distributions, has no meaning there; uld reads no likelihood of the text, so only fixed
    /// weights apply to it; teachers are never compared token by token. Without a stated policy the
    /// terms keep the teachers' fixed weights. The gate applies to per-teacher terms only.
    /// </summary>
    private static Recipe PerTeacherMixing(SettingsReader r, YamlMappingNode root, Recipe recipe)
    {
        var mixing = r.Node(root, "mixing") as YamlMappingNode;
        YamlNode? Stated(string key) => mixing is null ? null : r.Node(mixing, key);
        var m = recipe.Mixing;
        if (!recipe.Loss.PerTeacher || recipe.Teachers.Count == 0)
        {
            if (m.Gated && Stated("gate_bits_per_byte") is { } node)
                r.Error(node, "gate_bits_per_byte switches off per-teacher terms (loss kind alm); blended objectives weigh teachers per position: remove it");
            return recipe;
        }
        var policy = Stated("policy");
        if (policy is null) recipe = recipe with { Mixing = m = m with { Policy = MixingPolicyKind.Weighted } };
        var (kind, uld) = (SettingNames.Of(recipe.Loss.Kind), recipe.Loss.Kind == LossKind.Uld);
        var allowed = uld ? "weighted or uniform" : "weighted, uniform, confidence, avg_ce or min_ce";
        if (m.Policy == MixingPolicyKind.Product)
            r.Error(policy!, $"mixing policy 'product' pools token distributions; loss kind '{kind}' weighs one term per teacher: use {allowed}");
        else if (uld && m.Policy is not (MixingPolicyKind.Weighted or MixingPolicyKind.Uniform))
            r.Error(policy!, $"mixing policy '{SettingNames.Of(m.Policy)}' weighs teachers by their likelihood of the text, which loss kind 'uld' does not read: use {allowed}");
        if (uld && m.Gated && Stated("gate_bits_per_byte") is { } gate)
            r.Error(gate, "gate_bits_per_byte needs the teachers' likelihood of the text, which loss kind 'uld' does not read: use loss kind alm or remove it");
        if (m.Policy is MixingPolicyKind.AvgCe or MixingPolicyKind.MinCe && !m.PerSequence && Stated("granularity") is { } granularity)
            r.Error(granularity, $"granularity 'token' compares teachers token by token, and their tokens differ under loss kind '{kind}': use 'sequence'");
        return recipe;
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
        // alm compares chunk likelihoods over every byte; it has no positions to restrict.
        if (recipe.Loss.Kind == LossKind.Alm)
            for (var i = 0; i < recipe.Teachers.Count; i++)
                if (recipe.Teachers[i].PositionsOf is not null && items.Children[i] is YamlMappingNode item)
                    r.Error(r.Node(item, "positions_of") ?? item, $"teacher '{recipe.Teachers[i].Name}': positions_of restricts aligned positions, which loss kind alm does not use");
    }
}
