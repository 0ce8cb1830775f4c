using Recommend.ContractTests;

namespace Recommend.Sqlite.Tests;

/// <summary>The shared store contract, against a SQLite file in a directory of its own per test.</summary>
public sealed class SqliteStoreContractTests : StoreContract<SqliteStore>, IDisposable
{
    private readonly TempDatabase _database = new();

    protected override Task<SqliteStore> CreateStoreAsync() => Task.FromResult(SqliteStore.Open(_database.Path));

    protected override async Task<SqliteStore> ReopenAsync(SqliteStore store)
    {
        await store.DisposeAsync();
        return SqliteStore.Open(_database.Path);
    }

    public void Dispose() => _database.Dispose();
}
