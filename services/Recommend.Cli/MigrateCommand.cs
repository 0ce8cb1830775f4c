using System.CommandLine;
using Npgsql;
using Recommend.Postgres;

namespace Recommend.Cli;

/// <summary>`recommend migrate`: brings a Postgres schema up to date (the host also does this at start-up).</summary>
internal static class MigrateCommand
{
    public static Command Create()
    {
        var connection = new Option<string?>("--connection")
        {
            Description = "Npgsql connection string (default: env ConnectionStrings__Postgres)",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("ConnectionStrings__Postgres"),
        };
        var command = new Command("migrate", "Apply pending Postgres migrations") { connection };
        command.SetAction(async (r, ct) =>
        {
            var connectionString = r.GetValue(connection);
            if (string.IsNullOrWhiteSpace(connectionString))
            {
                Console.Error.WriteLine("No connection string: pass --connection or set ConnectionStrings__Postgres.");
                return 2;
            }
            await using var dataSource = NpgsqlDataSource.Create(connectionString);
            var applied = await new PostgresMigrator(dataSource).MigrateAsync(ct);
            Console.WriteLine(applied.Count == 0
                ? "Schema is up to date."
                : $"Applied {string.Join(", ", applied.Select(m => $"{m.Version:D4}_{m.Name}"))}.");
            return 0;
        });
        return command;
    }
}
