using System.Reflection;

namespace MultiTeacher.Tests;

/// <summary>The fast subset stays trustworthy only if no test slips out of every category.</summary>
[Trait("Category", TestCategory.Unit)]
public class TestCategoryTests
{
    [Fact]
    public void EveryTest_CarriesExactlyOneKnownCategory()
    {
        string[] known = [TestCategory.Unit, TestCategory.Database, TestCategory.Browser];
        var problems = new List<string>();
        foreach (var type in typeof(TestCategoryTests).Assembly.GetTypes())
            foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
            {
                if (method.GetCustomAttribute<FactAttribute>() is null) continue;
                var categories = Categories(type).Concat(Categories(method)).ToList();
                if (categories.Count != 1 || !known.Contains(categories[0]))
                    problems.Add($"{type.Name}.{method.Name}: [{string.Join(", ", categories)}]");
            }
        Assert.True(problems.Count == 0, "tests without exactly one category:\n" + string.Join("\n", problems));
    }

    private static IEnumerable<string> Categories(MemberInfo member) => member.GetCustomAttributesData()
        .Where(a => a.AttributeType == typeof(TraitAttribute) && (string?)a.ConstructorArguments[0].Value == "Category")
        .Select(a => (string)a.ConstructorArguments[1].Value!);
}
