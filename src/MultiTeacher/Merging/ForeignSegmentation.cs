using MultiTeacher.Tokenization;

namespace MultiTeacher.Merging;

/// <summary>
/// A text cut as another tokenizer cuts it, written in a model's own vocabulary: each foreign token
/// becomes the model's token with the same bytes (matched as a transplant matches them), or, where
/// the model has none, the model's pieces for those bytes. Scoring a model on this encoding measures
/// what a foreign segmentation alone costs it, with every row its own: the part of a transplant's
/// loss that no approximation of new rows can remove.
/// </summary>
public sealed class ForeignSegmentation
{
    private readonly HfTokenizer _model, _foreign;
    private readonly int[][] _piecesOf;

    public ForeignSegmentation(HfTokenizer model, HfTokenizer foreign)
    {
        (_model, _foreign) = (model, foreign);
        var match = new VocabularyMatch(model, foreign);
        _piecesOf = new int[foreign.VocabSize][];
        for (var id = 0; id < foreign.VocabSize; id++)
            _piecesOf[id] = match.OldIdOf[id] >= 0 ? [match.OldIdOf[id]] : VocabularyMatch.OldPieces(model, foreign, id);
    }

    /// <summary>
    /// The model's ids for the foreign tokenizer's cut of <paramref name="text"/>. A foreign token
    /// written as several pieces shares its byte span among them by their lengths, so the byte
    /// spans still cover the text once and in order.
    /// </summary>
    public TokenEncoding Encode(string text)
    {
        var foreign = _foreign.Encode(text);
        var ids = new List<int>(foreign.Count);
        var chars = new List<(int, int)>(foreign.Count);
        var bytes = new List<(int, int)>(foreign.Count);
        for (var i = 0; i < foreign.Count; i++)
        {
            var pieces = _piecesOf[foreign.Ids[i]];
            var (start, end) = foreign.ByteOffsets[i];
            var at = start;
            for (var j = 0; j < pieces.Length; j++)
            {
                // A dummy-prefix space is in the piece but not in the text: spans are clamped to the token's.
                var next = j == pieces.Length - 1 ? end : Math.Min(end, at + _model.TokenBytes(pieces[j]).Length);
                ids.Add(pieces[j]);
                chars.Add(foreign.Offsets[i]);
                bytes.Add((at, next));
                at = next;
            }
        }
        return new TokenEncoding([.. ids], [.. chars], [.. bytes]);
    }
}
