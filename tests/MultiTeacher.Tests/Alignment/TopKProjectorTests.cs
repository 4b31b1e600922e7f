using MultiTeacher.Alignment;

namespace MultiTeacher.Tests.Alignment;

[Trait("Category", TestCategory.Unit)]
public class TopKProjectorTests
{
    public static TheoryData<ProjectionMethod, TailTreatment> Settings()
    {
        var data = new TheoryData<ProjectionMethod, TailTreatment>();
        foreach (var m in new[] { ProjectionMethod.Exact, ProjectionMethod.FirstToken })
            foreach (var t in Enum.GetValues<TailTreatment>())
                data.Add(m, t);
        return data;
    }

    /// <summary>Random teacher distributions over the full vocabulary, cut to their top-k plus tail mass.</summary>
    private static TopKRows RandomTopK(int vocab, int rows, int k, int seed)
    {
        var rng = new Random(seed);
        var result = TopKRows.Create(rows, k);
        var logits = new double[vocab];
        for (var r = 0; r < rows; r++)
        {
            var sharpness = 1 + rng.NextDouble() * 6;
            for (var v = 0; v < vocab; v++) logits[v] = sharpness * (rng.NextDouble() * rng.NextDouble() * 4);
            var max = logits.Max();
            var z = logits.Sum(l => Math.Exp(l - max));
            var top = Enumerable.Range(0, vocab).OrderByDescending(v => logits[v]).Take(k).ToArray();
            double kept = 0;
            for (var i = 0; i < k; i++)
            {
                var logProb = logits[top[i]] - max - Math.Log(z);
                result.Ids[r * k + i] = top[i];
                result.LogProbs[r * k + i] = (float)logProb;
                kept += Math.Exp(logProb);
            }
            result.TailMass[r] = (float)Math.Max(0, 1 - kept);
        }
        return result;
    }

    [Theory, MemberData(nameof(Settings))]
    public void Projection_PreservesProbabilityMass_ForRandomTeacherDistributions(ProjectionMethod method, TailTreatment tail)
    {
        var teacher = TestAssets.Tokenizer("qwen3");
        var student = TestAssets.Tokenizer("mistral-7b-v0.1");
        var projection = ProjectionCache.Default().GetOrBuild(teacher, student, method).Projection;
        var rows = RandomTopK(teacher.VocabSize, rows: 24, k: 64, seed: (int)method * 10 + (int)tail);
        var projected = TopKProjector.Project(rows, projection, tail);
        using var scope = TorchSharp.torch.NewDisposeScope();
        var denseRows = MultiTeacher.Mixing.SupportAssembler.Dense(projected);
        for (var r = 0; r < rows.Rows; r++)
        {
            var mass = projected.Probs.AsSpan(r * 64, 64).ToArray().Sum() + projected.Tail[r];
            Assert.Equal(1.0, mass, 4);
            var dense = denseRows[r].data<float>().ToArray();
            Assert.Equal(1.0, dense.Sum(), 3);
            Assert.All(dense, p => Assert.True(p >= 0));
            if (tail == TailTreatment.Renormalize && projected.Tail[r] == 0) Assert.Equal(1.0, projected.Probs.AsSpan(r * 64, 64).ToArray().Sum(), 4);
        }
    }

    [Theory]
    [InlineData(TailTreatment.Bucket), InlineData(TailTreatment.TeacherSpread)]
    public void Projection_WithTheSameTokenizer_KeepsEveryRowAsItWas(TailTreatment tail)
    {
        var tok = TestAssets.Tokenizer("llama3");
        var projection = VocabularyProjection.Build(tok, tok, ProjectionMethod.FirstToken);
        var rows = RandomTopK(tok.VocabSize, rows: 8, k: 16, seed: 3);
        var projected = TopKProjector.Project(rows, projection, tail);
        Assert.Equal(rows.Ids, projected.Ids);
        for (var i = 0; i < rows.Ids.Length; i++) Assert.Equal(Math.Exp(rows.LogProbs[i]), projected.Probs[i], 5);
        Assert.Equal(rows.TailMass, projected.Tail);
    }

    [Fact]
    public void TeacherSpread_GivesEachSupportTokenTheTailShareOfItsOtherTeacherTokens_ByHand()
    {
        // Teacher ids 0..6 → student ids: 0,0 → s0; 2,3,4 → s1; 5 → s2; 6 → none. s3 has no teacher token.
        var projection = new VocabularyProjection(ProjectionMethod.FirstToken, "t", "s", 4, [0, 0, 1, 1, 1, 2, VocabularyProjection.Tail], new bool[7]);
        Assert.Equal([2, 3, 1, 0], projection.Preimages);
        // Top-3: t0 0.4, t2 0.2, t6 0.1 (no student token); tail 0.3 over the 4 teacher ids outside the top-3: 0.075 each.
        var rows = TopKRows.Create(1, 3);
        (rows.Ids[0], rows.Ids[1], rows.Ids[2]) = (0, 2, 6);
        (rows.LogProbs[0], rows.LogProbs[1], rows.LogProbs[2]) = (MathF.Log(0.4f), MathF.Log(0.2f), MathF.Log(0.1f));
        rows.TailMass[0] = 0.3f;

        var spread = TopKProjector.Project(rows, projection, TailTreatment.TeacherSpread);
        // s0 gains t1's 0.075, s1 gains t3's and t4's 0.15; t5's 0.075 and t6's 0.1 stay outside the support.
        Assert.Equal(0.475, spread.Probs[0], 5);
        Assert.Equal(0.35, spread.Probs[1], 5);
        Assert.Equal(0.175, spread.Tail[0], 5);
        var dense = DenseRow(spread);
        Assert.Equal([0.475f, 0.35f, 0.0875f, 0.0875f], dense.Select(p => MathF.Round(p, 5)));

        // The bucket spreads the teacher's 0.3 and t6's 0.1 over s2 and s3 alike.
        var bucket = DenseRow(TopKProjector.Project(rows, projection, TailTreatment.Bucket));
        Assert.Equal([0.4f, 0.2f, 0.2f, 0.2f], bucket.Select(p => MathF.Round(p, 5)));
    }

    private static float[] DenseRow(ProjectedRows rows)
    {
        using var scope = TorchSharp.torch.NewDisposeScope();
        return MultiTeacher.Mixing.SupportAssembler.Dense(rows)[0].data<float>().ToArray();
    }

    [Theory]
    [InlineData(TailTreatment.Bucket), InlineData(TailTreatment.Lump)]
    public void Exact_SendsUnmatchedTeacherMassToTheTail(TailTreatment treatment)
    {
        var teacher = TestAssets.Tokenizer("llama3");
        var student = TestAssets.Tokenizer("mistral-7b-v0.1");
        var projection = ProjectionCache.Default().GetOrBuild(teacher, student, ProjectionMethod.Exact).Projection;
        var unmatched = Enumerable.Range(0, teacher.VocabSize).First(id => projection.Map[id] == VocabularyProjection.Tail && !teacher.IsSpecial(id));
        var matched = Enumerable.Range(0, teacher.VocabSize).First(id => projection.IsExact[id] && !teacher.IsSpecial(id));
        var rows = new TopKRows(1, 2, [unmatched, matched], [MathF.Log(0.3f), MathF.Log(0.5f)], [0.2f]);
        var projected = TopKProjector.Project(rows, projection, treatment);
        Assert.Equal(0.5f, projected.Tail[0], 5);
        Assert.Equal(0.5f, projected.Probs[1], 5);
        Assert.Equal(projection.Map[matched], projected.Ids[1]);
    }

    [Fact]
    public void TeacherIdsBeyondItsTokenizer_GoToTheTail()
    {
        // Qwen's embedding has 151,936 rows for 151,669 tokens; an untrained padding row can reach the top-k.
        var teacher = TestAssets.Tokenizer("qwen3");
        var student = TestAssets.Tokenizer("mistral-7b-v0.1");
        var projection = ProjectionCache.Default().GetOrBuild(teacher, student, ProjectionMethod.FirstToken).Projection;
        var rows = new TopKRows(1, 2, [151_900, 9707], [MathF.Log(0.25f), MathF.Log(0.75f)], [0f]);
        var projected = TopKProjector.Project(rows, projection, TailTreatment.Bucket);
        Assert.Equal(0.25f, projected.Tail[0], 5);
        Assert.Equal(0f, projected.Probs[0]);
    }
}
