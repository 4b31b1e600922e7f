using System.Text.Json.Nodes;
using MultiTeacher.Checkpoints;
using MultiTeacher.Models;
using MultiTeacher.Tokenization;
using static TorchSharp.torch;

namespace MultiTeacher.Merging;

/// <summary>How rows for tokens the old vocabulary lacks are made.</summary>
public enum TransplantMethod
{
    /// <summary>The mean of the old rows of the token's pieces under the old tokenizer.</summary>
    Mean,
    /// <summary>Orthogonal matching pursuit over shared anchor tokens in a donor model's space, as tokensurgeon does.</summary>
    Omp,
}

/// <summary>How a separate LM head's rows for new tokens are made.</summary>
public enum TransplantHead
{
    /// <summary>
    /// The mean of all the old head's rows: a new token's logit is about the average logit, so it
    /// takes little of the mass the model gives the tokens it knows (Hewitt 2021, "Initializing New
    /// Word Embeddings for Pretrained Language Models").
    /// </summary>
    Average,
    /// <summary>As the embedding's new rows (the method's approximation from the token's pieces or anchors).</summary>
    Approximate,
}

/// <summary>A transplant request.</summary>
/// <param name="Donor">A model that already uses the new tokenizer; OMP finds its coefficients in that model's embedding space.</param>
/// <param name="Head">New rows of a separate LM head (default <see cref="TransplantHead.Average"/>); a model with tied embeddings has none, and naming one is refused.</param>
public sealed record TransplantOptions(TransplantMethod Method = TransplantMethod.Mean, int K = 64, string? Donor = null, TransplantHead? Head = null);

/// <summary>What a transplant did.</summary>
public sealed record TransplantResult(string Directory, int NewVocabulary, int Copied, int Approximated);

/// <summary>
/// Gives a model another tokenizer (what mergekit-tokensurgeon does). Embedding and LM head rows of
/// tokens both vocabularies have are copied bit for bit; the others are approximated either by the
/// mean of the old rows of the token's old-tokenizer pieces, or by OMP: the new token's row in a
/// donor model (one that uses the new tokenizer) is written as a k-sparse combination of the donor's
/// rows of shared tokens, and the same coefficients combine the old model's rows of those tokens
/// (both spaces centred on their shared rows' mean, see <see cref="Omp"/>). A separate LM head's
/// new rows are the mean of all its old rows unless <see cref="TransplantHead.Approximate"/> is asked:
/// a row built from a token's pieces gives the new token about its pieces' logits, far more mass
/// than a token made of several pieces should have.
/// Every other tensor is copied unchanged; config.json gets the new vocab_size, bos and eos ids.
/// </summary>
public static class VocabularyTransplant
{
    public const string Embedding = "model.embed_tokens.weight", Head = "lm_head.weight";

    public static TransplantResult Run(string modelDirectory, string tokenizerDirectory, string outputDirectory, TransplantOptions options)
    {
        var output = Path.GetFullPath(outputDirectory);
        var old = HfTokenizer.FromDirectory(modelDirectory);
        var @new = HfTokenizer.FromDirectory(tokenizerDirectory);
        var match = new VocabularyMatch(old, @new);
        var donorDirectory = options.Donor ?? (File.Exists(Path.Combine(tokenizerDirectory, "config.json")) ? tokenizerDirectory : null);
        if (options.Method == TransplantMethod.Omp && donorDirectory is null)
            throw new MergeException("omp needs a model that uses the new tokenizer (give --donor DIR, or a --tokenizer directory with weights); without one use --method mean");
        if (options.K < 1) throw new MergeException("--k must be at least 1");

        using var checkpoint = new Checkpoint(modelDirectory);
        using var donor = options.Method == TransplantMethod.Omp ? new Checkpoint(donorDirectory!) : null;
        var names = checkpoint.Names.Order(StringComparer.Ordinal).ToList();
        if (!names.Contains(Embedding)) throw new MergeException($"{modelDirectory}: no {Embedding} to transplant");
        if (options.Head is not null && !names.Contains(Head))
            throw new MergeException($"{modelDirectory}: tied embeddings, no {Head}: its output rows are its embedding rows, so a head setting has nothing to act on");
        var slots = names.Select(n =>
        {
            var e = checkpoint.Entry(n);
            return n is Embedding or Head ? new TensorSlot(n, e.DType, [@new.VocabSize, e.Shape[1]]) : new TensorSlot(n, e.DType, e.Shape);
        }).ToList();

        MergeOutput.Publish(output, temp =>
        {
            using (var writer = new CheckpointWriter(temp, slots, long.MaxValue, new Dictionary<string, string> { ["format"] = "pt" }))
            {
                foreach (var name in names)
                {
                    using var scope = NewDisposeScope();
                    var tensor = checkpoint.Read(name);
                    writer.Write(name, name is Embedding or Head ? NewRows(tensor, name, old, @new, match, options, donor) : tensor);
                }
                writer.Complete();
            }
            WriteConfig(modelDirectory, tokenizerDirectory, temp, @new);
        });
        return new TransplantResult(output, @new.VocabSize, match.Shared, @new.VocabSize - match.Shared);
    }

    /// <summary>The new matrix: shared rows copied in the stored dtype (bit-identical), the rest approximated in float32.</summary>
    private static Tensor NewRows(Tensor oldRows, string name, HfTokenizer old, HfTokenizer @new, VocabularyMatch match, TransplantOptions options, Checkpoint? donor)
    {
        var result = zeros(@new.VocabSize, oldRows.shape[1], dtype: oldRows.dtype);
        var shared = Enumerable.Range(0, @new.VocabSize).Where(i => match.OldIdOf[i] >= 0).ToArray();
        var missing = Enumerable.Range(0, @new.VocabSize).Where(i => match.OldIdOf[i] < 0).ToArray();
        if (shared.Length > 0)
            result.index_copy_(0, tensor(shared.Select(i => (long)i).ToArray()), oldRows.index_select(0, tensor(shared.Select(i => (long)match.OldIdOf[i]).ToArray())));
        if (missing.Length == 0) return result;
        var approximated = name == Head && (options.Head ?? TransplantHead.Average) == TransplantHead.Average
            ? oldRows.to(ScalarType.Float32).mean([0]).unsqueeze(0).expand(missing.Length, -1)
            : options.Method == TransplantMethod.Mean
            ? PieceMeans(oldRows.to(ScalarType.Float32), old, @new, missing)
            : Omp(oldRows.to(ScalarType.Float32), DonorRows(donor!, name), match.OldIdOf, shared, missing, options.K);
        result.index_copy_(0, tensor(missing.Select(i => (long)i).ToArray()), approximated.to(oldRows.dtype));
        return result;
    }

    /// <summary>Each new token's text encoded with the old tokenizer; the mean of those pieces' rows (all rows' mean if it has none).</summary>
    public static Tensor PieceMeans(Tensor oldRows, HfTokenizer old, HfTokenizer @new, IReadOnlyList<int> newIds)
    {
        var bags = new List<long>();
        var pieces = new List<long>();
        var counts = new float[newIds.Count];
        for (var i = 0; i < newIds.Count; i++)
        {
            var id = newIds[i];
            var ids = VocabularyMatch.OldPieces(old, @new, id);
            foreach (var p in ids.Where(p => p >= 0 && p < oldRows.shape[0])) { bags.Add(i); pieces.Add(p); counts[i]++; }
        }
        using var scope = NewDisposeScope();
        var sums = zeros(newIds.Count, oldRows.shape[1]);
        if (pieces.Count > 0) sums.index_add_(0, tensor(bags.ToArray()), oldRows.index_select(0, tensor(pieces.ToArray())), 1);
        var n = tensor(counts).unsqueeze(1);
        var means = where(n > 0, sums / n.clamp_min(1), oldRows.mean([0]).unsqueeze(0).expand_as(sums));
        return means.MoveToOuterDisposeScope();
    }

    /// <summary>The donor's rows for this matrix: its LM head when it has one, else its (tied) embedding.</summary>
    private static Tensor DonorRows(Checkpoint donor, string name) =>
        (name == Head && donor.Contains(Head) ? donor.Read(Head) : donor.Read(Embedding)).to(ScalarType.Float32);

    /// <summary>
    /// OMP in the donor's space over the shared tokens, the coefficients applied to the old model's
    /// rows of the same tokens. Both spaces are centred on their anchors' mean first and the old
    /// mean added back: a row is then the old model's typical row plus the donor's offsets carried
    /// over, and a coefficient sum far from 1 cannot turn the component every row shares (in a
    /// small model, most of each row) into a row unlike any the model has.
    /// </summary>
    public static Tensor Omp(Tensor oldRows, Tensor donorRows, IReadOnlyList<int> oldIdOf, int[] shared, int[] missing, int k)
    {
        if (donorRows.shape[0] < oldIdOf.Count) throw new MergeException($"the donor has {donorRows.shape[0]} rows, fewer than the new tokenizer's {oldIdOf.Count} tokens");
        using var outer = NewDisposeScope();
        var donorAnchors = donorRows.index_select(0, tensor(shared.Select(i => (long)i).ToArray()));
        var oldAnchors = oldRows.index_select(0, tensor(shared.Select(i => (long)oldIdOf[i]).ToArray()));
        var (donorMean, oldMean) = (donorAnchors.mean([0], keepdim: true), oldAnchors.mean([0], keepdim: true));
        donorAnchors = donorAnchors - donorMean;
        oldAnchors = oldAnchors - oldMean;
        var parts = new List<Tensor>();
        const int chunk = 256;   // bounds the chunk × anchors score matrix
        for (var start = 0; start < missing.Length; start += chunk)
        {
            using var scope = NewDisposeScope();
            var ids = missing.Skip(start).Take(chunk).Select(i => (long)i).ToArray();
            var (indices, coefficients) = OrthogonalMatchingPursuit.Fit(donorRows.index_select(0, tensor(ids)) - donorMean, donorAnchors, k);
            var combined = coefficients.unsqueeze(1).matmul(oldAnchors.index_select(0, indices.reshape(-1)).reshape(ids.Length, indices.shape[1], -1)).squeeze(1);
            parts.Add((combined + oldMean).MoveToOuterDisposeScope());
        }
        return cat(parts, 0).MoveToOuterDisposeScope();
    }

    private static void WriteConfig(string modelDirectory, string tokenizerDirectory, string directory, HfTokenizer @new)
    {
        var raw = MergeSources.RawConfig(modelDirectory);
        raw["vocab_size"] = @new.VocabSize;
        raw["bos_token_id"] = @new.Roles.Bos >= 0 ? JsonValue.Create(@new.Roles.Bos) : null;
        raw["eos_token_id"] = @new.Roles.Eos >= 0 ? JsonValue.Create(@new.Roles.Eos) : null;
        if (@new.Roles.Pad >= 0) raw["pad_token_id"] = @new.Roles.Pad;
        else raw.Remove("pad_token_id");
        File.WriteAllText(Path.Combine(directory, "config.json"), raw.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
        PretrainedModel.WriteGenerationConfig(ModelConfig.FromPretrained(directory), directory);
        PretrainedModel.CopyTokenizerFiles(tokenizerDirectory, directory);
    }
}
