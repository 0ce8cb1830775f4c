using Recommend.ContractTests;
using Recommend.Testing.Postgres;

namespace Recommend.Postgres.Tests;

/// <summary>
/// The shared store contract, against a database of its own per test. Co-purchase counts come from the durable
/// background step, which the contract runs to completion before reading them.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresStoreContractTests(PostgresCluster cluster) : StoreContract<PostgresStore>
{
    private string? _connectionString;

    protected override async Task<PostgresStore> CreateStoreAsync()
    {
        _connectionString = await cluster.CreateDatabaseAsync();
        return await PostgresStore.OpenAsync(_connectionString, CancellationToken.None);
    }

    protected override async Task<PostgresStore> ReopenAsync(PostgresStore store)
    {
        await store.DisposeAsync();
        return await PostgresStore.OpenAsync(_connectionString!, CancellationToken.None);
    }
}
