using MultiTeacher.Tokenization;

namespace MultiTeacher.Merging;

/// <summary>
/// Which tokens of a new vocabulary the old one already has. Tokens are compared by the bytes they
/// stand for, which normalises the word markers (byte-level "Ġ", SentencePiece "▁") and byte tokens
/// (&lt;0xNN&gt; against the byte-level alphabet's character for that byte); special tokens match by
/// role (bos, eos, pad, unk), then by identical content.
/// </summary>
public sealed class VocabularyMatch
{
    /// <summary>For each new id, the old id holding the same token, or -1 when it has to be approximated.</summary>
    public int[] OldIdOf { get; }

    public int Shared => OldIdOf.Count(i => i >= 0);

    /// <summary>The old tokenizer's pieces for a new token: its bytes written mid-text, or a special token's content; none for an id without text.</summary>
    public static int[] OldPieces(HfTokenizer old, HfTokenizer @new, int newId) =>
        @new.TokenText(newId) is not { } text ? []
        : @new.IsSpecial(newId) ? old.EncodeToIds(text, addSpecialTokens: false)
        : old.EncodeBytesMidText(@new.TokenBytes(newId));

    public VocabularyMatch(HfTokenizer old, HfTokenizer @new)
    {
        var byBytes = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        var specials = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var id = 0; id < old.VocabSize; id++)
        {
            if (old.TokenText(id) is null) continue;
            if (old.IsSpecial(id)) { specials.TryAdd(old.TokenText(id)!, id); continue; }
            var key = Convert.ToHexString(old.TokenBytes(id));
            if (!byBytes.TryGetValue(key, out var ids)) byBytes[key] = ids = [];
            ids.Add(id);
        }
        var roles = new[] { (@new.Roles.Bos, old.Roles.Bos), (@new.Roles.Eos, old.Roles.Eos), (@new.Roles.Pad, old.Roles.Pad), (@new.Roles.Unk, old.Roles.Unk) }
            .Where(r => r.Item1 >= 0 && r.Item2 >= 0).GroupBy(r => r.Item1).ToDictionary(g => g.Key, g => g.First().Item2);

        OldIdOf = new int[@new.VocabSize];
        for (var id = 0; id < @new.VocabSize; id++)
        {
            OldIdOf[id] = -1;
            if (@new.TokenText(id) is not { } text) continue;
            if (roles.TryGetValue(id, out var role)) OldIdOf[id] = role;
            else if (@new.IsSpecial(id)) OldIdOf[id] = specials.GetValueOrDefault(text, -1);
            // Several old ids can share bytes (a byte token and a one-byte piece): the same id is preferred.
            else if (byBytes.TryGetValue(Convert.ToHexString(@new.TokenBytes(id)), out var ids) && ids.Count > 0)
                OldIdOf[id] = ids.Contains(id) ? id : ids[0];
        }
    }
}
