using System.Diagnostics;
using System.Text.Json;

namespace Recommend.Testing.Qwen;

/// <summary>
/// Random-weight Qwen3-architecture graphs (hidden 64, 2 layers, real vocabulary) generated once per test run by
/// tests/fixtures/qwen/make_graphs.py into a temporary folder, in both ONNX interfaces plus int8, each with the real
/// tokenizer.json beside it; and the independent numpy reference (reference.py) that pools the same weights.
/// Needs /usr/bin/python3 with Debian's python3-onnx and python3-numpy (override with QWEN_TEST_PYTHON).
/// </summary>
public sealed class TinyQwenModels : IDisposable
{
    public const int HiddenSize = 64;
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"recommend-qwen-tests-{Guid.NewGuid():N}");
    private static string Python => Environment.GetEnvironmentVariable("QWEN_TEST_PYTHON") ?? "/usr/bin/python3";
    private static string ScriptDirectory => Path.Combine(QwenFixturePaths.RepositoryRoot, "tests", "fixtures", "qwen");

    /// <summary>Interface (a): model.onnx + model.onnx_data + model_quantized.onnx directly in the folder.</summary>
    public string InterfaceA => Path.Combine(_root, "a");

    /// <summary>Interface (b): onnx/model.onnx with position_ids and past_key_values, Hugging Face repository layout.</summary>
    public string InterfaceB => Path.Combine(_root, "b");

    public TinyQwenModels()
    {
        RunPython("make_graphs.py", "--config", "tiny", "--out", _root);
        foreach (var directory in new[] { InterfaceA, InterfaceB })
            File.Copy(QwenFixturePaths.TokenizerJsonPath, Path.Combine(directory, "tokenizer.json"));
    }

    public string ModelDirectory(string interfaceName) => interfaceName == "a" ? InterfaceA : InterfaceB;

    /// <summary>Reference last-token hidden states (float64, full width), each sequence run alone without padding.</summary>
    public double[][] ReferencePooled(IReadOnlyList<int[]> ids)
    {
        var request = Path.Combine(_root, $"ids-{Guid.NewGuid():N}.json");
        var response = Path.ChangeExtension(request, ".out.json");
        File.WriteAllText(request, JsonSerializer.Serialize(new { ids }));
        RunPython("reference.py", "--weights", Path.Combine(_root, "weights.json"), "--ids", request, "--out", response);
        using var json = JsonDocument.Parse(File.ReadAllText(response));
        return json.RootElement.GetProperty("pooled").EnumerateArray()
            .Select(v => v.EnumerateArray().Select(x => x.GetDouble()).ToArray()).ToArray();
    }

    private static void RunPython(string script, params string[] arguments)
    {
        var start = new ProcessStartInfo(Python) { RedirectStandardError = true, RedirectStandardOutput = true };
        start.ArgumentList.Add(Path.Combine(ScriptDirectory, script));
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {Python}");
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{script} failed ({process.ExitCode}); it needs {Python} with python3-onnx and python3-numpy:\n{stderr.Result}");
    }

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }
}
