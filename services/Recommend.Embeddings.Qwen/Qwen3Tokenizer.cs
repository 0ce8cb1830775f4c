using System.Buffers;
using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Microsoft.ML.Tokenizers;

namespace Recommend.Embeddings.Qwen;

/// <summary>
/// The Qwen3-Embedding tokenizer, equal to Hugging Face's on the model's <c>tokenizer.json</c>: added tokens matched in
/// the raw text, NFC, the Qwen pre-tokenizer, byte-level BPE, then <c>&lt;|endoftext|&gt;</c> appended (the embedding
/// model pools the hidden state of that last token). Thread-safe.
/// </summary>
public sealed class Qwen3Tokenizer
{
    public const int EndOfTextId = 151643;
    private const string QwenPreTokenizerPattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>Catalogue text repeats its words, so most pieces are cache hits; the cap bounds memory on adversarial input.</summary>
    private const int MaxCachedPieces = 200_000;

    private readonly BpeTokenizer _bpe;
    private readonly Dictionary<char, (string Content, int Id)[]> _addedTokensByFirstChar;
    private readonly SearchValues<char> _addedTokenFirstChars;
    private readonly ConcurrentDictionary<string, int[]> _pieceCache = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int[]>.AlternateLookup<ReadOnlySpan<char>> _pieceCacheBySpan;

    private Qwen3Tokenizer(BpeTokenizer bpe, IEnumerable<(string Content, int Id)> addedTokens)
    {
        _bpe = bpe;
        // Longest first, so "<|endoftext|>" wins over any shorter token sharing its start (Hugging Face matches leftmost-longest).
        _addedTokensByFirstChar = addedTokens
            .GroupBy(t => t.Content[0])
            .ToDictionary(g => g.Key, g => g.OrderByDescending(t => t.Content.Length).ToArray());
        _addedTokenFirstChars = SearchValues.Create(_addedTokensByFirstChar.Keys.ToArray());
        _pieceCacheBySpan = _pieceCache.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>Loads a Hugging Face <c>tokenizer.json</c> of the Qwen2/Qwen3 family; rejects any other tokenizer.</summary>
    public static Qwen3Tokenizer FromFile(string tokenizerJsonPath)
    {
        using var stream = File.OpenRead(tokenizerJsonPath);
        using var json = JsonDocument.Parse(stream);
        var root = json.RootElement;
        RequireQwenPipeline(root, tokenizerJsonPath);

        var model = root.GetProperty("model");
        var vocabulary = model.GetProperty("vocab").EnumerateObject()
            .Select(p => new KeyValuePair<string, int>(p.Name, p.Value.GetInt32()))
            .ToList();
        // Older files store merges as "a b" strings, newer ones as ["a", "b"]; byte-level symbols never contain a space.
        var merges = model.GetProperty("merges").EnumerateArray()
            .Select(m => m.ValueKind == JsonValueKind.String ? m.GetString()! : $"{m[0].GetString()} {m[1].GetString()}")
            .ToList();
        var addedTokens = root.GetProperty("added_tokens").EnumerateArray()
            .Select(t => (t.GetProperty("content").GetString()!, t.GetProperty("id").GetInt32()))
            .ToList();

        var bpe = BpeTokenizer.Create(new BpeOptions(vocabulary)
        {
            Merges = merges,
            ByteLevel = true,
            PreTokenizer = QwenPreTokenizer.Instance,
        });
        return new Qwen3Tokenizer(bpe, addedTokens);
    }

    /// <summary>
    /// Token ids ending with <see cref="EndOfTextId"/>. Longer texts are cut to <paramref name="maxTokens"/> − 1 ids before
    /// the end token is appended, as Hugging Face truncation does; the BPE stops as soon as the budget is spent.
    /// </summary>
    public int[] Encode(string text, int maxTokens = int.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTokens, 1);
        var budget = maxTokens - 1;
        var ids = new List<int>(Math.Min(budget, text.Length / 3 + 4) + 1);
        var sanitized = ReplaceLoneSurrogates(text);

        var segmentStart = 0;
        var searchFrom = 0;
        while (ids.Count < budget && FindAddedToken(sanitized, searchFrom) is var (position, content, id) && position >= 0)
        {
            EncodeOrdinaryText(sanitized.AsSpan(segmentStart, position - segmentStart), ids, budget);
            if (ids.Count < budget) ids.Add(id);
            segmentStart = searchFrom = position + content.Length;
        }
        EncodeOrdinaryText(sanitized.AsSpan(segmentStart), ids, budget);

        ids.Add(EndOfTextId);
        return ids.ToArray();
    }

    /// <summary>First occurrence at or after <paramref name="from"/> of an added token (e.g. "&lt;|im_start|&gt;"), longest match; position −1 if none.</summary>
    private (int Position, string Content, int Id) FindAddedToken(string text, int from)
    {
        while (from < text.Length)
        {
            var offset = text.AsSpan(from).IndexOfAny(_addedTokenFirstChars);
            if (offset < 0) break;
            var position = from + offset;
            foreach (var (content, id) in _addedTokensByFirstChar[text[position]])
            {
                if (text.AsSpan(position).StartsWith(content, StringComparison.Ordinal)) return (position, content, id);
            }
            from = position + 1;
        }
        return (-1, "", 0);
    }

    /// <summary>Text between added tokens: NFC, pre-tokenize, BPE each piece until the budget is spent.</summary>
    private void EncodeOrdinaryText(ReadOnlySpan<char> text, List<int> ids, int budget)
    {
        if (text.IsEmpty || ids.Count >= budget) return;
        var normalized = text.IsNormalized(NormalizationForm.FormC) ? text : text.ToString().Normalize(NormalizationForm.FormC).AsSpan();
        foreach (var (offset, length) in QwenPreTokenizer.Split(normalized))
        {
            var pieceIds = EncodePiece(normalized.Slice(offset, length));
            var room = budget - ids.Count;
            if (pieceIds.Length >= room)
            {
                for (var k = 0; k < room; k++) ids.Add(pieceIds[k]);
                return;
            }
            ids.AddRange(pieceIds);
        }
    }

    private int[] EncodePiece(ReadOnlySpan<char> piece)
    {
        if (_pieceCacheBySpan.TryGetValue(piece, out var cached)) return cached;
        var ids = _bpe.EncodeToIds(piece, considerPreTokenization: false, considerNormalization: false).ToArray();
        if (_pieceCache.Count < MaxCachedPieces) _pieceCacheBySpan.TryAdd(piece, ids);
        return ids;
    }

    /// <summary>
    /// Lone UTF-16 surrogates become U+FFFD, as they do when a JS or Rust string is built from them (what Hugging Face
    /// tokenizes); NFC and UTF-8 encoding would otherwise throw or drop them.
    /// </summary>
    internal static string ReplaceLoneSurrogates(string text)
    {
        var firstSurrogate = text.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF');
        if (firstSurrogate < 0) return text;
        var builder = new StringBuilder(text.Length);
        builder.Append(text, 0, firstSurrogate);
        for (var i = firstSurrogate; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                builder.Append(c).Append(text[++i]);
            }
            else builder.Append(char.IsSurrogate(c) ? '\uFFFD' : c);
        }
        return builder.ToString();
    }

    private static void RequireQwenPipeline(JsonElement root, string path)
    {
        var isBpe = root.TryGetProperty("model", out var model) && model.TryGetProperty("type", out var type) && type.GetString() == "BPE";
        var isNfc = root.TryGetProperty("normalizer", out var normalizer) && normalizer.ValueKind == JsonValueKind.Object
            && normalizer.TryGetProperty("type", out var normalizerType) && normalizerType.GetString() == "NFC";
        var hasQwenRegex = root.TryGetProperty("pre_tokenizer", out var preTokenizer) && ContainsString(preTokenizer, QwenPreTokenizerPattern);
        if (!isBpe || !isNfc || !hasQwenRegex)
            throw new InvalidDataException($"{path} is not a Qwen2/Qwen3 tokenizer (expected BPE, NFC and the Qwen pre-tokenizer regex).");
    }

    private static bool ContainsString(JsonElement element, string value) => element.ValueKind switch
    {
        JsonValueKind.String => element.ValueEquals(value),
        JsonValueKind.Object => element.EnumerateObject().Any(p => ContainsString(p.Value, value)),
        JsonValueKind.Array => element.EnumerateArray().Any(e => ContainsString(e, value)),
        _ => false,
    };
}
