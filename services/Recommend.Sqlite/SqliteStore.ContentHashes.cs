using Dapper;
using Recommend.Core.Vectors;

namespace Recommend.Sqlite;

public sealed partial class SqliteStore : IContentHashLedger
{
    public async Task<IReadOnlyDictionary<string, string>> GetContentHashesAsync(string version, IReadOnlyCollection<string> productIds, CancellationToken ct)
    {
        if (productIds.Count == 0) return new Dictionary<string, string>();
        return await ReadAsync(async connection =>
        {
            var rows = await connection.QueryAsync<(string ProductId, string Hash)>(new CommandDefinition(
                """
                SELECT product_id, content_hash FROM index_content_hashes
                WHERE index_version = @version AND product_id IN (SELECT value FROM json_each(@ids))
                """,
                new { version, ids = IdList(productIds) }, cancellationToken: ct));
            return rows.ToDictionary(r => r.ProductId, r => r.Hash, StringComparer.Ordinal);
        }, ct);
    }

    public Task PutContentHashesAsync(string version, IReadOnlyList<ContentHash> hashes, CancellationToken ct)
    {
        if (hashes.Count == 0) return Task.CompletedTask;
        return WriteAsync(transaction => _writer.Execute(
            """
            INSERT INTO index_content_hashes (index_version, product_id, content_hash) VALUES (@version, @ProductId, @Hash)
            ON CONFLICT (index_version, product_id) DO UPDATE SET content_hash = excluded.content_hash
            """,
            hashes.Select(h => new { version, h.ProductId, h.Hash }), transaction), ct);
    }

    public async Task<IReadOnlyList<string>> ListUnmarkedProductsAsync(string version, string mark, string? afterId, int limit, CancellationToken ct)
    {
        return await ReadAsync(async connection =>
        {
            var ids = await connection.QueryAsync<string>(new CommandDefinition(
                """
                SELECT product_id FROM index_content_hashes
                WHERE index_version = @version AND mark <> @mark AND product_id > @afterId
                ORDER BY product_id LIMIT @limit
                """,
                // '' sorts before every id: a seek in the primary key on every page (see ScanProductsAsync).
                new { version, mark, afterId = afterId ?? "", limit }, cancellationToken: ct));
            return ids.AsList();
        }, ct);
    }

    public Task DeleteContentHashesAsync(string version, IReadOnlyCollection<string> productIds, CancellationToken ct)
    {
        if (productIds.Count == 0) return Task.CompletedTask;
        return WriteAsync(transaction => _writer.Execute(
            "DELETE FROM index_content_hashes WHERE index_version = @version AND product_id IN (SELECT value FROM json_each(@ids))",
            new { version, ids = IdList(productIds) }, transaction), ct);
    }

    public async Task<long> CountContentHashesAsync(string version, CancellationToken ct)
    {
        return await ReadAsync(connection => connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT count(*) FROM index_content_hashes WHERE index_version = @version", new { version }, cancellationToken: ct)), ct);
    }

    public Task DropContentHashesAsync(string version, CancellationToken ct) =>
        WriteAsync(transaction => _writer.Execute(
            "DELETE FROM index_content_hashes WHERE index_version = @version", new { version }, transaction), ct);
}
