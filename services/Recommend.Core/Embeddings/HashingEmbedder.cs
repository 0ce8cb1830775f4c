using System.Diagnostics;
using System.IO.Hashing;
using System.Numerics.Tensors;
using System.Text;
using Recommend.Core.Diagnostics;

namespace Recommend.Core.Embeddings;

/// <summary>
/// Fallback embedder that needs no model files: words, word bigrams and character trigrams hashed into a
/// fixed number of buckets (signed feature hashing), then L2-normalised. Deterministic across processes and
/// machines. It captures lexical overlap only — the Qwen3 embedder is the real one.
/// </summary>
public sealed class HashingEmbedder(int dimension = HashingEmbedder.DefaultDimension) : IEmbedder
{
    public const int DefaultDimension = 256;
    public const string ModelId = "hashing-ngrams-v1";

    public EmbedderInfo Info { get; } = new("hashing-fallback", ModelId, dimension);

    public Task<float[][]> EmbedDocumentsAsync(IReadOnlyList<string> texts, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var vectors = texts.Select(Embed).ToArray();
        CoreTelemetry.Embedded(Info.Name, texts.Count, tokens: 0, Stopwatch.GetElapsedTime(started));
        return Task.FromResult(vectors);
    }

    public Task<float[]> EmbedQueryAsync(string query, CancellationToken ct) => Task.FromResult(Embed(query));

    public float[] Embed(string text)
    {
        var vector = new float[Info.Dimension];
        var words = Tokenize(text);
        for (var i = 0; i < words.Count; i++)
        {
            Add(vector, "w:" + words[i], 1f);
            if (i > 0) Add(vector, "b:" + words[i - 1] + " " + words[i], 0.7f);
            var padded = $"#{words[i]}#";
            for (var c = 0; c + 3 <= padded.Length; c++) Add(vector, "c:" + padded.Substring(c, 3), 0.35f);
        }

        var norm = TensorPrimitives.Norm(vector);
        if (norm > 0) TensorPrimitives.Divide(vector, norm, vector);
        else vector[0] = 1f; // empty text still gets a valid unit vector
        return vector;
    }

    private static List<string> Tokenize(string text)
    {
        var words = new List<string>();
        var current = new StringBuilder();
        foreach (var ch in text.Normalize(NormalizationForm.FormKC))
        {
            if (char.IsLetterOrDigit(ch)) current.Append(char.ToLowerInvariant(ch));
            else if (current.Length > 0) { words.Add(current.ToString()); current.Clear(); }
        }
        if (current.Length > 0) words.Add(current.ToString());
        return words;
    }

    private void Add(float[] vector, string feature, float weight)
    {
        var hash = XxHash64.HashToUInt64(Encoding.UTF8.GetBytes(feature));
        var bucket = (int)(hash % (ulong)vector.Length);
        vector[bucket] += (hash >> 63) == 0 ? weight : -weight;
    }
}
