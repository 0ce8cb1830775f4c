using System.IO.Compression;
using System.Text.Json;
using Recommend.Testing.Qwen;

namespace Recommend.Embeddings.Qwen.Tests;

/// <summary>Paths to the repository's test fixtures and the shared real Qwen3 tokenizer.</summary>
internal static class Fixtures
{
    public static string TokenizerDirectory => QwenFixturePaths.TokenizerDirectory;

    public static string TokenizerJsonPath => QwenFixturePaths.TokenizerJsonPath;

    private static readonly Lazy<Qwen3Tokenizer> SharedTokenizer = new(() => Qwen3Tokenizer.FromFile(TokenizerJsonPath));

    /// <summary>Loading the 151k-entry vocabulary takes a moment, so tests share one instance (it is thread-safe).</summary>
    public static Qwen3Tokenizer Tokenizer => SharedTokenizer.Value;

    public sealed record GoldenCase(string Text, int[] Ids);

    /// <summary>Golden ids from Hugging Face's tokenizer (tests/fixtures/tokenizer/make-golden.mjs).</summary>
    public static IReadOnlyList<GoldenCase> GoldenCases()
    {
        using var gzip = new GZipStream(File.OpenRead(Path.Combine(TokenizerDirectory, "golden.jsonl.gz")), CompressionMode.Decompress);
        using var reader = new StreamReader(gzip);
        var cases = new List<GoldenCase>();
        while (reader.ReadLine() is { } line)
        {
            using var json = JsonDocument.Parse(line);
            var root = json.RootElement;
            // Texts holding lone surrogates are stored as UTF-16 code units: JSON parsers reject such escapes.
            var text = root.TryGetProperty("utf16", out var units)
                ? new string(units.EnumerateArray().Select(u => (char)u.GetInt32()).ToArray())
                : root.GetProperty("text").GetString()!;
            cases.Add(new GoldenCase(text, root.GetProperty("ids").EnumerateArray().Select(i => i.GetInt32()).ToArray()));
        }
        return cases;
    }
}
