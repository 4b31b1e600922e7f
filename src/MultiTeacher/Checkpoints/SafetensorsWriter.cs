using System.Text;
using System.Text.Json;
using static TorchSharp.torch;

namespace MultiTeacher.Checkpoints;

/// <summary>Writes tensors as one safetensors file: names sorted, header padded to 8 bytes, data in order.</summary>
public static class SafetensorsWriter
{
    public static void Write(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var names = tensors.Keys.Order(StringComparer.Ordinal).ToList();
        var header = new Dictionary<string, object>();
        if (metadata is { Count: > 0 }) header["__metadata__"] = metadata;
        long offset = 0;
        foreach (var name in names)
        {
            var t = tensors[name];
            var dtype = SafetensorsFile.DTypes.FirstOrDefault(d => d.Value.Type == t.dtype).Key
                ?? throw new ArgumentException($"tensor '{name}' has dtype {t.dtype}, which safetensors output does not support here");
            var size = t.numel() * SafetensorsFile.DTypes[dtype].Size;
            header[name] = new { dtype, shape = t.shape, data_offsets = new[] { offset, offset + size } };
            offset += size;
        }
        var json = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(header));
        var padded = (json.Length + 7) / 8 * 8;
        var temp = path + $".{Guid.NewGuid():N}.tmp";
        using (var file = File.Create(temp))
        {
            file.Write(BitConverter.GetBytes((long)padded));
            file.Write(json);
            for (var i = json.Length; i < padded; i++) file.WriteByte((byte)' ');
            foreach (var name in names)
            {
                using var scope = NewDisposeScope();
                var cpu = tensors[name].detach().cpu().contiguous();
                file.Write(cpu.bytes);
            }
        }
        File.Move(temp, path, overwrite: true);
    }
}
