using System.CommandLine;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Recommend.Embeddings.Qwen;

namespace Recommend.Cli;

/// <summary>
/// Offline commands that make the embedding path inspectable without a server: <c>tokenize</c> and <c>embed</c> read
/// texts as JSON lines on stdin (a JSON string, or an object with a "text" field) and write one JSON line per text.
/// </summary>
internal static partial class EmbeddingCommands
{
    private const int TextsPerBatch = 64;

    public static IEnumerable<Command> Create()
    {
        var modelDir = new Option<string>("--model-dir")
        {
            Description = "Folder with tokenizer.json and the ONNX model (directly or under onnx/)",
            Required = true,
        };
        var dimension = new Option<int>("--dim")
        {
            Description = $"Output dimension, {QwenEmbedderOptions.MinDimension}-{QwenEmbedderOptions.MaxDimension} (Matryoshka truncation, then L2 normalisation)",
            DefaultValueFactory = _ => QwenEmbedderOptions.MaxDimension,
        };
        var query = new Option<bool>("--query") { Description = "Embed as search queries (adds the Qwen3 instruction prefix)" };
        var int8 = new Option<bool>("--int8") { Description = "Use model_quantized.onnx instead of model.onnx" };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Truncate texts to this many tokens", DefaultValueFactory = _ => 512 };

        var tokenize = new Command("tokenize", "Qwen3-Embedding token ids of JSON-lines texts on stdin, as {\"ids\":[...]} lines") { modelDir, maxTokens };
        tokenize.SetAction(async (r, ct) =>
        {
            var directory = r.GetValue(modelDir)!;
            var path = QwenModelFiles.TryFindTokenizer(directory);
            if (path is null) return Fail($"no tokenizer.json in {directory} or {Path.Combine(directory, "onnx")}");
            var tokenizer = Qwen3Tokenizer.FromFile(path);
            var limit = r.GetValue(maxTokens);
            return await ProcessLines(ct, batch => Task.FromResult(batch.Select(t => (Action<Utf8JsonWriter>)(w =>
            {
                w.WriteStartArray("ids");
                foreach (var id in tokenizer.Encode(t, limit)) w.WriteNumberValue(id);
                w.WriteEndArray();
            })).ToArray()));
        });

        var embed = new Command("embed", "Qwen3-Embedding vectors of JSON-lines texts on stdin, as {\"vector\":[...]} lines")
        {
            modelDir, dimension, query, int8, maxTokens,
        };
        embed.SetAction(async (r, ct) =>
        {
            var options = new QwenEmbedderOptions
            {
                ModelDirectory = r.GetValue(modelDir)!,
                Dimension = r.GetValue(dimension),
                MaxTokens = r.GetValue(maxTokens),
                Precision = r.GetValue(int8) ? QwenPrecision.Int8 : QwenPrecision.Fp32,
            };
            if (QwenEmbedder.TryFindModel(options.ModelDirectory, options.Precision) is null)
                return Fail($"no {QwenModelFiles.OnnxFileName(options.Precision)} with tokenizer.json in {options.ModelDirectory} (or its onnx/ folder)");
            QwenEmbedder embedder;
            try
            {
                embedder = QwenEmbedder.Create(options);
            }
            catch (Exception e) when (e is ArgumentException or NotSupportedException or InvalidDataException)
            {
                return Fail(e.Message);
            }
            using var disposeEmbedder = embedder;
            var asQuery = r.GetValue(query);
            return await ProcessLines(ct, async batch =>
            {
                var vectors = asQuery
                    ? await Task.WhenAll(batch.Select(t => embedder.EmbedQueryAsync(t, ct)))
                    : await embedder.EmbedDocumentsAsync(batch, ct);
                return vectors.Select(v => (Action<Utf8JsonWriter>)(w =>
                {
                    w.WriteStartArray("vector");
                    foreach (var x in v) w.WriteNumberValue(x);
                    w.WriteEndArray();
                })).ToArray();
            });
        });
        return [tokenize, embed];
    }

    /// <summary>Reads stdin in batches, writes one JSON object per text in order; a malformed line stops with exit code 2.</summary>
    private static async Task<int> ProcessLines(CancellationToken ct, Func<string[], Task<Action<Utf8JsonWriter>[]>> handle)
    {
        using var input = new StreamReader(Console.OpenStandardInput(), new UTF8Encoding(false));
        await using var output = Console.OpenStandardOutput();
        var batch = new List<string>(TextsPerBatch);
        var lineNumber = 0;
        while (true)
        {
            var line = await input.ReadLineAsync(ct);
            if (line is not null)
            {
                lineNumber++;
                if (string.IsNullOrWhiteSpace(line)) continue;
                if (!TryReadText(line, out var text, out var error)) return Fail($"stdin line {lineNumber}: {error}");
                batch.Add(text);
            }
            if (batch.Count == TextsPerBatch || (line is null && batch.Count > 0))
            {
                foreach (var writeFields in await handle(batch.ToArray()))
                {
                    await using (var writer = new Utf8JsonWriter(output))
                    {
                        writer.WriteStartObject();
                        writeFields(writer);
                        writer.WriteEndObject();
                    }
                    output.WriteByte((byte)'\n');
                }
                await output.FlushAsync(ct);
                batch.Clear();
            }
            if (line is null) return 0;
        }
    }

    private static bool TryReadText(string line, out string text, out string error)
    {
        (text, error) = ("", "");
        try
        {
            // System.Text.Json refuses escaped lone surrogates ("\ud800"), which JavaScript happily writes; they become
            // U+FFFD, as the tokenizer would turn them into anyway, so such input still gets ids or a vector.
            using var json = JsonDocument.Parse(LoneSurrogateEscape().Replace(line, @"\uFFFD"));
            var root = json.RootElement;
            var value = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("text", out var field) ? field : root;
            if (value.ValueKind != JsonValueKind.String)
            {
                error = "expected a JSON string or an object with a \"text\" string";
                return false;
            }
            text = value.GetString()!;
            return true;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            error = $"not valid JSON text ({e.Message})";
            return false;
        }
    }

    /// <summary>A \uD800–\uDBFF escape not followed by a \uDC00–\uDFFF one, or the latter not preceded by the former.</summary>
    [GeneratedRegex(@"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}")]
    private static partial Regex LoneSurrogateEscape();

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"error: {message}");
        return 2;
    }
}
