using Recommend.Testing.Postgres;

namespace Recommend.Postgres.Tests;

/// <summary>All Postgres tests share one server start; each test still gets a database of its own.</summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresCluster>
{
    public const string Name = "postgres";
}
