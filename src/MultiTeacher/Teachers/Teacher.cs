using MultiTeacher.Alignment;
using MultiTeacher.Cache;
using MultiTeacher.Models;
using MultiTeacher.Recipes;
using MultiTeacher.Tokenization;

namespace MultiTeacher.Teachers;

/// <summary>A teacher ready to run: its recipe entry, model, tokenizer, projection into the student vocabulary, and its top-k or likelihood-matching cache (offline mode).</summary>
public sealed record Teacher(TeacherSettings Spec, CausalLM Model, HfTokenizer Tokenizer, VocabularyProjection Projection, TeacherCache? Cache = null, AlmCache? Alm = null)
{
    public string Name => Spec.Name;
}
