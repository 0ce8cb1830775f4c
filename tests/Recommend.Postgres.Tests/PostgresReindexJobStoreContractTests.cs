using Recommend.ContractTests;
using Recommend.Testing.Postgres;

namespace Recommend.Postgres.Tests;

/// <summary>The re-indexing job store contract against a database of its own per test.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresReindexJobStoreContractTests(PostgresCluster cluster) : ReindexJobStoreContract<PostgresStore>
{
    protected override async Task<PostgresStore> CreateStoreAsync() =>
        await PostgresStore.OpenAsync(await cluster.CreateDatabaseAsync(), CancellationToken.None);
}
