using Recommend.Testing.Postgres;

namespace Recommend.Cli.Tests;

public sealed class MigrateCommandTests(PostgresCluster cluster) : IClassFixture<PostgresCluster>
{
    [Fact]
    public async Task Migrate_applies_pending_migrations_once()
    {
        var connectionString = await cluster.CreateDatabaseAsync();

        var first = await CliProcess.RunAsync("", "migrate", "--connection", connectionString);
        var second = await CliProcess.RunAsync("", "migrate", "--connection", connectionString);

        Assert.Equal(0, first.ExitCode);
        Assert.StartsWith("Applied 0001_", Assert.Single(first.Lines));
        Assert.Equal(0, second.ExitCode);
        Assert.Equal("Schema is up to date.", Assert.Single(second.Lines));
    }

    [Fact]
    public async Task Migrate_without_a_connection_string_explains_what_is_missing()
    {
        var result = await CliProcess.RunAsync("", "migrate", "--connection", "");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("ConnectionStrings__Postgres", result.Errors);
    }
}
