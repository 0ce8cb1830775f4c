using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Dapper;
using Recommend.Core.Vectors;

namespace Recommend.Sqlite;

public sealed partial class SqliteStore
{
    public async Task<IReadOnlyDictionary<string, float[]>> GetEmbeddingsAsync(
        IndexSpec spec, IReadOnlyCollection<string> textHashes, CancellationToken ct)
    {
        if (textHashes.Count == 0) return new Dictionary<string, float[]>();
        return await ReadAsync(async connection =>
        {
            var rows = await connection.QueryAsync<EmbeddingRow>(new CommandDefinition(
                """
                SELECT text_hash AS TextHash, vector AS Vector
                FROM embedding_cache
                WHERE model_id = @model AND dimension = @dimension AND text_hash IN (SELECT value FROM json_each(@hashes))
                """,
                new { model = spec.ModelId, dimension = spec.Dimension, hashes = IdList(textHashes) },
                cancellationToken: ct));
            return rows.ToDictionary(row => row.TextHash, row => FromLittleEndian(row.Vector), StringComparer.Ordinal);
        }, ct);
    }

    public Task PutEmbeddingsAsync(IndexSpec spec, IReadOnlyList<KeyValuePair<string, float[]>> vectorsByTextHash, CancellationToken ct)
    {
        if (vectorsByTextHash.Count == 0) return Task.CompletedTask;
        foreach (var (hash, vector) in vectorsByTextHash)
        {
            if (vector.Length != spec.Dimension)
            {
                throw new ArgumentException(
                    $"Vector for text hash {hash} has {vector.Length} dimensions; the spec says {spec.Dimension}.",
                    nameof(vectorsByTextHash));
            }
        }
        var rows = vectorsByTextHash.Select(pair => new
        {
            model = spec.ModelId, dimension = spec.Dimension, hash = pair.Key, vector = ToLittleEndian(pair.Value),
        });
        return WriteAsync(transaction => _writer.Execute(
            """
            INSERT INTO embedding_cache (model_id, dimension, text_hash, vector) VALUES (@model, @dimension, @hash, @vector)
            ON CONFLICT (model_id, dimension, text_hash) DO UPDATE SET vector = excluded.vector
            """,
            rows, transaction), ct);
    }

    /// <summary>Vectors are stored as little-endian float32, whatever the machine, so the file is portable.</summary>
    private static byte[] ToLittleEndian(float[] vector)
    {
        var bytes = MemoryMarshal.AsBytes(vector.AsSpan()).ToArray();
        if (!BitConverter.IsLittleEndian)
        {
            var words = MemoryMarshal.Cast<byte, int>(bytes.AsSpan());
            BinaryPrimitives.ReverseEndianness(words, words);
        }
        return bytes;
    }

    private static float[] FromLittleEndian(byte[] bytes)
    {
        var vector = MemoryMarshal.Cast<byte, float>(bytes).ToArray();
        if (!BitConverter.IsLittleEndian)
        {
            var words = MemoryMarshal.Cast<float, int>(vector.AsSpan());
            BinaryPrimitives.ReverseEndianness(words, words);
        }
        return vector;
    }

    private sealed class EmbeddingRow
    {
        public string TextHash { get; set; } = "";
        public byte[] Vector { get; set; } = [];
    }
}
