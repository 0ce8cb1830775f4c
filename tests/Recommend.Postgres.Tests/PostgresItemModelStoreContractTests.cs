using Recommend.ContractTests;
using Recommend.Testing.Postgres;

namespace Recommend.Postgres.Tests;

/// <summary>The shared item-model store contract, against a database of its own per test.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresItemModelStoreContractTests(PostgresCluster cluster) : ItemModelStoreContract<PostgresStore>
{
    protected override async Task<PostgresStore> CreateStoreAsync() =>
        await PostgresStore.OpenAsync(await cluster.CreateDatabaseAsync(), CancellationToken.None);
}
