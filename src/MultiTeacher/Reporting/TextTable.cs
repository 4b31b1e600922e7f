namespace MultiTeacher.Reporting;

/// <summary>A titled table of plain-text cells, as reports hand it to whatever prints it (console, Markdown).</summary>
public sealed record TextTable(string Title, IReadOnlyList<string> Columns, IReadOnlyList<IReadOnlyList<string>> Rows);
