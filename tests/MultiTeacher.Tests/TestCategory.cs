namespace MultiTeacher.Tests;

/// <summary>
/// Values of the "Category" trait every test carries: Unit runs in-process on the CPU alone,
/// Database starts PostgreSQL, Browser drives Chromium through Playwright (and starts PostgreSQL
/// too). `dotnet test --filter Category=Unit` runs the fast ones.
/// </summary>
public static class TestCategory
{
    public const string Unit = "Unit";
    public const string Database = "Database";
    public const string Browser = "Browser";
}
