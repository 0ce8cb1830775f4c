using Dapper;
using Npgsql;
using Recommend.Core.Vectors;

namespace Recommend.Postgres;

public sealed partial class PostgresStore : IContentHashLedger
{
    public async Task<IReadOnlyDictionary<string, string>> GetContentHashesAsync(string version, IReadOnlyCollection<string> productIds, CancellationToken ct)
    {
        if (productIds.Count == 0) return new Dictionary<string, string>();
        var rows = await RunAsync(connection => connection.QueryAsync<(string ProductId, string Hash)>(new CommandDefinition(
            "select product_id, content_hash from index_content_hashes where index_version = @version and product_id = any(@Ids)",
            new { version, Ids = productIds.Distinct().ToArray() }, cancellationToken: ct)), ct);
        return rows.ToDictionary(r => r.ProductId, r => r.Hash, StringComparer.Ordinal);
    }

    public async Task PutContentHashesAsync(string version, IReadOnlyList<ContentHash> hashes, CancellationToken ct)
    {
        if (hashes.Count == 0) return;
        await RunAsync(connection => UpsertHashesAsync(connection, null, version, hashes, mark: null, ct), ct);
    }

    public async Task<IReadOnlyList<string>> ListUnmarkedProductsAsync(string version, string mark, string? afterId, int limit, CancellationToken ct)
    {
        var ids = await RunAsync(connection => connection.QueryAsync<string>(new CommandDefinition(
            """
            select product_id from index_content_hashes
            where index_version = @version and mark <> @mark and product_id > coalesce(@afterId, '')
            order by product_id limit @limit
            """,
            new { version, mark, afterId, limit }, cancellationToken: ct)), ct);
        return ids.AsList();
    }

    public async Task DeleteContentHashesAsync(string version, IReadOnlyCollection<string> productIds, CancellationToken ct)
    {
        if (productIds.Count == 0) return;
        await RunAsync(connection => connection.ExecuteAsync(new CommandDefinition(
            "delete from index_content_hashes where index_version = @version and product_id = any(@Ids)",
            new { version, Ids = productIds.ToArray() }, cancellationToken: ct)), ct);
    }

    public Task<long> CountContentHashesAsync(string version, CancellationToken ct) =>
        RunAsync(connection => connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "select count(*) from index_content_hashes where index_version = @version", new { version }, cancellationToken: ct)), ct);

    public Task DropContentHashesAsync(string version, CancellationToken ct) =>
        RunAsync(connection => connection.ExecuteAsync(new CommandDefinition(
            "delete from index_content_hashes where index_version = @version", new { version }, cancellationToken: ct)), ct);

    /// <summary>
    /// With a mark, the pass's tag replaces the old one; without, the row keeps its tag (a write outside a pass). Also
    /// used by a re-index batch, in its checkpoint's transaction.
    /// </summary>
    private static Task UpsertHashesAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, string version, IReadOnlyList<ContentHash> hashes, string? mark, CancellationToken ct)
    {
        if (hashes.Count == 0) return Task.CompletedTask;
        var onConflict = mark is null ? "content_hash = excluded.content_hash" : "content_hash = excluded.content_hash, mark = excluded.mark";
        // on conflict cannot touch a row twice in one statement: the last hash of an id wins.
        var latest = hashes.GroupBy(h => h.ProductId, StringComparer.Ordinal).Select(g => g.Last()).ToList();
        return connection.ExecuteAsync(new CommandDefinition(
            $"""
            insert into index_content_hashes (index_version, product_id, content_hash, mark)
            select @Version, p.id, p.hash, @Mark from unnest(@Ids, @Hashes) as p(id, hash)
            on conflict (index_version, product_id) do update set {onConflict}
            """,
            new
            {
                Version = version,
                Mark = mark ?? "",
                Ids = latest.Select(h => h.ProductId).ToArray(),
                Hashes = latest.Select(h => h.Hash).ToArray(),
            }, transaction, cancellationToken: ct));
    }
}
