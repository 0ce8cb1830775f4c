using Recommend.ContractTests;

namespace Recommend.Sqlite.Tests;

/// <summary>The re-indexing job store contract against a SQLite file of its own per test.</summary>
public sealed class SqliteReindexJobStoreContractTests : ReindexJobStoreContract<SqliteStore>, IDisposable
{
    private readonly TempDatabase _database = new();

    protected override Task<SqliteStore> CreateStoreAsync() => Task.FromResult(SqliteStore.Open(_database.Path));

    public void Dispose() => _database.Dispose();
}
