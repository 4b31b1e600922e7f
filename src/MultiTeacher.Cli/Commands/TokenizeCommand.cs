using System.CommandLine;
using System.Text;
using System.Text.Json;
using MultiTeacher.Tokenization;

namespace MultiTeacher.Cli.Commands;

/// <summary>`mt tokenize`: text lines on stdin to ids (or JSON with offsets and token bytes) on stdout.</summary>
public static class TokenizeCommand
{
    public static Command Create(CliIO io)
    {
        var tokenizer = new Option<string>("--tokenizer") { Description = "Hugging Face tokenizer directory (tokenizer.json, tokenizer_config.json)", Required = true };
        var offsets = new Option<bool>("--offsets") { Description = "Append char offsets start:end to each id" };
        var json = new Option<bool>("--json") { Description = "One JSON object per line: ids, offsets, byte offsets, token bytes (hex)" };
        var noSpecial = new Option<bool>("--no-special") { Description = "Do not add the post-processor's special tokens (e.g. BOS)" };

        var command = new Command("tokenize", "Tokenize text lines from stdin, one output line per input line.") { tokenizer, offsets, json, noSpecial };
        command.SetAction(r =>
        {
            var tok = HfTokenizer.FromDirectory(r.GetValue(tokenizer)!);
            var addSpecial = !r.GetValue(noSpecial);
            var asJson = r.GetValue(json);
            var withOffsets = r.GetValue(offsets);
            while (io.In.ReadLine() is { } line)
            {
                if (asJson) { io.Out.WriteLine(ToJson(tok, tok.Encode(line, addSpecial))); continue; }
                if (!withOffsets) { io.Out.WriteLine(string.Join(' ', tok.EncodeToIds(line, addSpecial))); continue; }
                var e = tok.Encode(line, addSpecial);
                io.Out.WriteLine(string.Join(' ', e.Ids.Select((id, i) => $"{id}@{e.Offsets[i].Start}:{e.Offsets[i].End}")));
            }
            return CliApp.Ok;
        });
        return command;
    }

    private static string ToJson(HfTokenizer tok, TokenEncoding e) => JsonSerializer.Serialize(new
    {
        ids = e.Ids,
        offsets = e.Offsets.Select(o => new[] { o.Start, o.End }),
        byte_offsets = e.ByteOffsets.Select(o => new[] { o.Start, o.End }),
        tokens = e.Ids.Select(tok.TokenText),
        bytes = e.Ids.Select(id => Convert.ToHexStringLower(tok.TokenBytes(id))),
    }, new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
}
