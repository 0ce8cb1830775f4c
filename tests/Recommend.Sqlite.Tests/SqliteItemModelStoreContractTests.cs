using Recommend.ContractTests;

namespace Recommend.Sqlite.Tests;

/// <summary>The shared item-model store contract, against a SQLite file in a directory of its own per test.</summary>
public sealed class SqliteItemModelStoreContractTests : ItemModelStoreContract<SqliteStore>, IDisposable
{
    private readonly TempDatabase _database = new();

    protected override Task<SqliteStore> CreateStoreAsync() => Task.FromResult(SqliteStore.Open(_database.Path));

    public void Dispose() => _database.Dispose();
}
