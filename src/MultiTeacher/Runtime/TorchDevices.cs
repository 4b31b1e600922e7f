using static TorchSharp.torch;

namespace MultiTeacher.Runtime;

/// <summary>The torch device a recipe or worker names: the one place a device name becomes a device.</summary>
public static class TorchDevices
{
    /// <summary>auto, cpu, cuda or cuda:N (a worker's gpu-N queue picks N).</summary>
    public static Device Of(string name) => name switch
    {
        "auto" => cuda.is_available() ? CUDA : CPU,
        "cpu" => CPU,
        _ => device(name),
    };
}
