using Recommend.ContractTests;
using Recommend.Testing.Postgres;

namespace Recommend.Postgres.Tests;

/// <summary>The shared experiment-store contract, against a database of its own per test.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresExperimentStoreContractTests(PostgresCluster cluster) : ExperimentStoreContract<PostgresStore>
{
    protected override async Task<PostgresStore> CreateStoreAsync() =>
        await PostgresStore.OpenAsync(await cluster.CreateDatabaseAsync(), CancellationToken.None);
}
