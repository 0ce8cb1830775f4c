using System.Security.Cryptography;

namespace Recommend.Embeddings.Qwen;

/// <summary>Where a Qwen3-Embedding export keeps its files, and a fingerprint of its weights.</summary>
public sealed record QwenModelFiles(string OnnxPath, string TokenizerPath)
{
    public static string OnnxFileName(QwenPrecision precision) =>
        precision == QwenPrecision.Int8 ? "model_quantized.onnx" : "model.onnx";

    /// <summary>
    /// The ONNX file for <paramref name="precision"/> and <c>tokenizer.json</c>, each looked up in the directory and in
    /// its <c>onnx/</c> subfolder (Hugging Face repository layout); null when either is missing, so a host can fall back.
    /// </summary>
    public static QwenModelFiles? TryFind(string? modelDirectory, QwenPrecision precision = QwenPrecision.Fp32)
    {
        if (string.IsNullOrWhiteSpace(modelDirectory) || !Directory.Exists(modelDirectory)) return null;
        var onnx = FirstExisting(modelDirectory, OnnxFileName(precision));
        var tokenizer = TryFindTokenizer(modelDirectory);
        return onnx is null || tokenizer is null ? null : new QwenModelFiles(onnx, tokenizer);
    }

    /// <summary><c>tokenizer.json</c> in the directory or its <c>onnx/</c> subfolder; null when absent.</summary>
    public static string? TryFindTokenizer(string? modelDirectory) =>
        string.IsNullOrWhiteSpace(modelDirectory) ? null : FirstExisting(modelDirectory, "tokenizer.json");

    private static string? FirstExisting(string directory, string fileName) =>
        new[] { Path.Combine(directory, fileName), Path.Combine(directory, "onnx", fileName) }.FirstOrDefault(File.Exists);

    /// <summary>
    /// Short content fingerprint of the ONNX file and its external data (<c>*.onnx_data</c>, where the fp32 weights of the
    /// real export live): SHA-256 over each file's length and three 1 MiB samples (start, middle, end). Hashing all 2.4 GB
    /// would add seconds to every start; size and modification time are cheap but differ between replicas that copied the
    /// same weights, which would make their index and cache keys disagree. Any re-export or fine-tune rewrites bytes
    /// throughout the file, so the samples change with it.
    /// </summary>
    public string WeightsFingerprint()
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var path in new[] { OnnxPath, OnnxPath + "_data", OnnxPath + ".data" }.Where(File.Exists))
        {
            using var file = File.OpenRead(path);
            sha.AppendData(BitConverter.GetBytes(file.Length));
            const int sampleSize = 1 << 20;
            var buffer = new byte[sampleSize];
            foreach (var offset in new[] { 0L, file.Length / 2, Math.Max(0, file.Length - sampleSize) })
            {
                file.Position = offset;
                sha.AppendData(buffer, 0, file.ReadAtLeast(buffer, sampleSize, throwOnEndOfStream: false));
            }
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset())[..12];
    }
}
