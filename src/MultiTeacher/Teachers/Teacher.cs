using MultiTeacher.Alignment;
using MultiTeacher.Cache;
using MultiTeacher.Models;
using MultiTeacher.Recipes;
using MultiTeacher.Tokenization;

namespace MultiTeacher.Teachers;

/// <summary>
/// A teacher ready to run: its recipe entry, model, tokenizer, projection into the student
/// vocabulary, its top-k or likelihood-matching cache (offline mode), and the tokenizer whose
/// aligned positions it is restricted to (teachers[].positions_of), if any.
/// </summary>
public sealed record Teacher(TeacherSettings Spec, CausalLM Model, HfTokenizer Tokenizer, VocabularyProjection Projection, TeacherCache? Cache = null, AlmCache? Alm = null,
    HfTokenizer? PositionsOf = null)
{
    public string Name => Spec.Name;
}
