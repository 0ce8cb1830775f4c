using Dapper;
using Npgsql;
using NpgsqlTypes;
using Recommend.Core.Vectors;

namespace Recommend.Postgres;

public sealed partial class PostgresStore
{
    public async Task<IReadOnlyDictionary<string, float[]>> GetEmbeddingsAsync(IndexSpec spec, IReadOnlyCollection<string> textHashes, CancellationToken ct)
    {
        if (textHashes.Count == 0) return new Dictionary<string, float[]>();
        var rows = await RunAsync(connection => connection.QueryAsync<(string TextHash, float[] Vector)>(new CommandDefinition(
            """
            select text_hash, vector from embedding_cache
            where model_id = @ModelId and dimension = @Dimension and text_hash = any(@Hashes)
            """,
            new { spec.ModelId, spec.Dimension, Hashes = textHashes.Distinct().ToArray() }, cancellationToken: ct)), ct);
        return rows.ToDictionary(r => r.TextHash, r => r.Vector, StringComparer.Ordinal);
    }

    public async Task PutEmbeddingsAsync(IndexSpec spec, IReadOnlyList<KeyValuePair<string, float[]>> vectorsByTextHash, CancellationToken ct)
    {
        if (vectorsByTextHash.Count == 0) return;
        await RunAsync(connection => WriteEmbeddingsAsync(connection, spec, vectorsByTextHash, ct), ct);
    }

    private static async Task WriteEmbeddingsAsync(
        NpgsqlConnection connection, IndexSpec spec, IReadOnlyList<KeyValuePair<string, float[]>> vectorsByTextHash, CancellationToken ct)
    {
        await using var transaction = await connection.BeginTransactionAsync(ct);

        // Pipelined single-row upserts: arrays of vectors do not unnest row by row, and a re-index batch is small.
        await using var batch = new NpgsqlBatch(connection, transaction);
        foreach (var (textHash, vector) in vectorsByTextHash)
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand(
                """
                insert into embedding_cache (model_id, dimension, text_hash, vector) values ($1, $2, $3, $4)
                on conflict (model_id, dimension, text_hash) do update set vector = excluded.vector
                """)
            {
                Parameters =
                {
                    new NpgsqlParameter<string> { TypedValue = spec.ModelId },
                    new NpgsqlParameter<int> { TypedValue = spec.Dimension },
                    new NpgsqlParameter<string> { TypedValue = textHash },
                    new NpgsqlParameter<float[]> { TypedValue = vector, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Real },
                },
            });
        }
        await batch.ExecuteNonQueryAsync(ct);
        await transaction.CommitAsync(ct);
    }
}
