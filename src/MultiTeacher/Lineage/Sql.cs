using Npgsql;

namespace MultiTeacher.Lineage;

/// <summary>Connections and parameterised commands for the classes that read and write the lineage database.</summary>
internal static class Sql
{
    public static NpgsqlConnection Open(string connectionString)
    {
        var c = new NpgsqlConnection(connectionString);
        c.Open();
        return c;
    }

    /// <summary>A command whose values travel as positional parameters ($1, $2, ...), never as SQL text; null becomes NULL.</summary>
    public static NpgsqlCommand Command(NpgsqlConnection c, NpgsqlTransaction? tx, string sql, params object?[] values)
    {
        var command = new NpgsqlCommand(sql, c, tx);
        foreach (var v in values) command.Parameters.Add(new NpgsqlParameter { Value = v ?? DBNull.Value });
        return command;
    }
}
