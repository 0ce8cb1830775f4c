using System.Data;
using System.Reflection;
using Dapper;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Recommend.Postgres;

/// <summary>
/// Applies the numbered SQL scripts embedded under Migrations/ (e.g. <c>0002_add_x.sql</c>) that the database has
/// not seen yet, recording each in <c>schema_migrations</c>. Called by the host at start-up and by the CLI's
/// <c>migrate</c> command; safe to run from many replicas at once, and while older replicas serve.
/// </summary>
/// <remarks>
/// Each script runs in a transaction of its own, so a failing one leaves nothing of itself behind, unless its first
/// line is <see cref="Migration.NoTransactionDirective"/>: then its statements (each ending with <c>;</c> at the end of
/// a line) run one by one outside any transaction, as <c>CREATE INDEX CONCURRENTLY</c> requires. Such a script must be
/// safe to run again from the start, since a crash can stop it between two statements.
/// </remarks>
public sealed class PostgresMigrator(NpgsqlDataSource dataSource, ILogger<PostgresMigrator>? logger = null)
{
    private static readonly TimeSpan LockRetryInterval = TimeSpan.FromMilliseconds(200);

    private readonly ILogger _logger = logger ?? NullLogger<PostgresMigrator>.Instance;

    /// <summary>The embedded migrations, in version order.</summary>
    public static IReadOnlyList<Migration> Migrations { get; } = LoadMigrations();

    /// <summary>Brings the schema up to date; returns the migrations this call applied (empty when none were due).</summary>
    public Task<IReadOnlyList<Migration>> MigrateAsync(CancellationToken ct) => MigrateAsync(int.MaxValue, ct);

    /// <summary>Applies the due migrations up to <paramref name="upToVersion"/> (tests build an older schema with it).</summary>
    internal async Task<IReadOnlyList<Migration>> MigrateAsync(int upToVersion, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        // Everything below runs under one lock: a second replica waits for it, then sees the versions the first recorded.
        await LockAsync(connection, ct);
        try
        {
            await connection.ExecuteAsync(new CommandDefinition(
                """
                create table if not exists schema_migrations (
                    version    integer primary key,
                    name       text not null,
                    applied_at timestamptz not null default now()
                )
                """, cancellationToken: ct));

            var applied = (await connection.QueryAsync<int>(new CommandDefinition(
                "select version from schema_migrations", cancellationToken: ct))).ToHashSet();

            var due = Migrations.Where(m => !applied.Contains(m.Version) && m.Version <= upToVersion).ToList();
            foreach (var migration in due)
            {
                _logger.LogInformation("Applying Postgres migration {Version} {Name}", migration.Version, migration.Name);
                if (migration.InTransaction) await ApplyInTransactionAsync(connection, migration, ct);
                else await ApplyStatementByStatementAsync(connection, migration, ct);
            }
            return due;
        }
        finally
        {
            await UnlockAsync(connection);
        }
    }

    private static async Task ApplyInTransactionAsync(NpgsqlConnection connection, Migration migration, CancellationToken ct)
    {
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using (var command = new NpgsqlCommand(migration.Sql, connection, transaction))
            await command.ExecuteNonQueryAsync(ct);
        await RecordAsync(connection, migration, transaction, ct);
        await transaction.CommitAsync(ct);
    }

    private static async Task ApplyStatementByStatementAsync(NpgsqlConnection connection, Migration migration, CancellationToken ct)
    {
        foreach (var statement in migration.Statements())
        {
            await using var command = new NpgsqlCommand(statement, connection);
            await command.ExecuteNonQueryAsync(ct);
        }
        await RecordAsync(connection, migration, transaction: null, ct);
    }

    private static Task RecordAsync(NpgsqlConnection connection, Migration migration, NpgsqlTransaction? transaction, CancellationToken ct) =>
        connection.ExecuteAsync(new CommandDefinition(
            "insert into schema_migrations (version, name) values (@Version, @Name)",
            new { migration.Version, migration.Name }, transaction, cancellationToken: ct));

    /// <summary>
    /// Takes the session-level migration lock, retrying until it is free. A replica must not wait inside
    /// <c>pg_advisory_lock</c>: the statement waiting keeps a snapshot open, which the lock holder's
    /// <c>CREATE INDEX CONCURRENTLY</c> would wait for in turn, and the server would end one of them as a deadlock.
    /// </summary>
    private async Task LockAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        var waiting = false;
        while (!await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
                   "select pg_try_advisory_lock(@Class, @Object)",
                   new { Class = AdvisoryLocks.Class, Object = AdvisoryLocks.Migrations }, cancellationToken: ct)))
        {
            if (!waiting) _logger.LogInformation("Waiting for another replica to finish migrating the Postgres schema");
            waiting = true;
            await Task.Delay(LockRetryInterval, ct);
        }
    }

    /// <summary>
    /// Releases the lock before the connection goes back to the pool, where its session (and a session-level lock)
    /// lives on. A connection that broke took its session, and the lock, with it.
    /// </summary>
    private static async Task UnlockAsync(NpgsqlConnection connection)
    {
        if (connection.FullState != ConnectionState.Open) return;
        await connection.ExecuteAsync(new CommandDefinition(
            "select pg_advisory_unlock(@Class, @Object)",
            new { Class = AdvisoryLocks.Class, Object = AdvisoryLocks.Migrations }));
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
        // A script run statement by statement must split cleanly before any of it runs.
        foreach (var migration in migrations.Where(m => !m.InTransaction)) migration.Statements();
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
public sealed record Migration(int Version, string Name, string Sql)
{
    /// <summary>First line of a script whose statements must run outside a transaction (see <see cref="PostgresMigrator"/>).</summary>
    public const string NoTransactionDirective = "-- recommend:no-transaction";

    public bool InTransaction => !Sql.StartsWith(NoTransactionDirective, StringComparison.Ordinal);

    /// <summary>The script's statements: each ends with a semicolon at the end of a line; comment lines stay with the next.</summary>
    internal IReadOnlyList<string> Statements()
    {
        var statements = new List<string>();
        var statement = new List<string>();
        foreach (var line in Sql.Split('\n'))
        {
            statement.Add(line.TrimEnd('\r'));
            if (!IsCode(line) || !line.TrimEnd().EndsWith(';')) continue;
            statements.Add(string.Join('\n', statement));
            statement.Clear();
        }
        if (statement.Any(IsCode))
            throw new InvalidOperationException($"Migration '{Name}' ends with a statement that has no closing semicolon.");
        return statements;
    }

    private static bool IsCode(string line) => line.Trim() is { Length: > 0 } text && !text.StartsWith("--", StringComparison.Ordinal);
}
