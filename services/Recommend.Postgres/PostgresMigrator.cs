using System.Reflection;
using Dapper;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Recommend.Postgres;

/// <summary>
/// Applies the numbered SQL scripts embedded under Migrations/ (e.g. <c>0002_add_x.sql</c>) that the database has
/// not seen yet, recording each in <c>schema_migrations</c>. Called by the host at start-up and by the CLI's
/// <c>migrate</c> command; safe to run from many replicas at once.
/// </summary>
public sealed class PostgresMigrator(NpgsqlDataSource dataSource, ILogger<PostgresMigrator>? logger = null)
{
    private readonly ILogger _logger = logger ?? NullLogger<PostgresMigrator>.Instance;

    /// <summary>The embedded migrations, in version order.</summary>
    public static IReadOnlyList<Migration> Migrations { get; } = LoadMigrations();

    /// <summary>Brings the schema up to date; returns the migrations this call applied (empty when none were due).</summary>
    public Task<IReadOnlyList<Migration>> MigrateAsync(CancellationToken ct) => MigrateAsync(int.MaxValue, ct);

    /// <summary>Applies the due migrations up to <paramref name="upToVersion"/> (tests build an older schema with it).</summary>
    internal async Task<IReadOnlyList<Migration>> MigrateAsync(int upToVersion, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);

        // Everything below runs under one lock and one transaction: a second replica waits here, then sees the
        // versions the first one recorded; a failing script leaves no half-applied schema behind.
        await connection.ExecuteAsync(new CommandDefinition(
            "select pg_advisory_xact_lock(@Class, @Object)",
            new { Class = AdvisoryLocks.Class, Object = AdvisoryLocks.Migrations }, transaction, cancellationToken: ct));
        await connection.ExecuteAsync(new CommandDefinition(
            """
            create table if not exists schema_migrations (
                version    integer primary key,
                name       text not null,
                applied_at timestamptz not null default now()
            )
            """, transaction: transaction, cancellationToken: ct));

        var applied = (await connection.QueryAsync<int>(new CommandDefinition(
            "select version from schema_migrations", transaction: transaction, cancellationToken: ct))).ToHashSet();

        var due = Migrations.Where(m => !applied.Contains(m.Version) && m.Version <= upToVersion).ToList();
        foreach (var migration in due)
        {
            _logger.LogInformation("Applying Postgres migration {Version} {Name}", migration.Version, migration.Name);
            await using (var command = new NpgsqlCommand(migration.Sql, connection, transaction))
                await command.ExecuteNonQueryAsync(ct);
            await connection.ExecuteAsync(new CommandDefinition(
                "insert into schema_migrations (version, name) values (@Version, @Name)",
                new { migration.Version, migration.Name }, transaction, cancellationToken: ct));
        }

        await transaction.CommitAsync(ct);
        return due;
    }

    private static IReadOnlyList<Migration> LoadMigrations()
    {
        const string prefix = "Migrations/";
        var assembly = typeof(PostgresMigrator).Assembly;
        var migrations = assembly.GetManifestResourceNames()
            .Where(name => name.StartsWith(prefix, StringComparison.Ordinal) && name.EndsWith(".sql", StringComparison.Ordinal))
            .Select(resource => Parse(assembly, resource, resource[prefix.Length..^".sql".Length]))
            .OrderBy(m => m.Version)
            .ToList();

        var duplicate = migrations.GroupBy(m => m.Version).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new InvalidOperationException($"Two migrations share version {duplicate.Key}.");
        return migrations;
    }

    private static Migration Parse(Assembly assembly, string resource, string name)
    {
        var separator = name.IndexOf('_');
        if (separator <= 0 || !int.TryParse(name.AsSpan(0, separator), out var version))
            throw new InvalidOperationException($"Migration '{name}' must be named '<number>_<description>.sql'.");

        using var stream = assembly.GetManifestResourceStream(resource)!;
        using var reader = new StreamReader(stream);
        return new Migration(version, name, reader.ReadToEnd());
    }
}

/// <summary>One versioned schema script.</summary>
public sealed record Migration(int Version, string Name, string Sql);
