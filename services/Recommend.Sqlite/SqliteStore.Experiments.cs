using Dapper;
using Microsoft.Data.Sqlite;
using Recommend.Core.Experiments;
using Recommend.Core.Experiments.Statistics;
using Recommend.Core.History;
using Recommend.Sql;

namespace Recommend.Sqlite;

public sealed partial class SqliteStore : IExperimentStore
{
    private const string ExperimentColumns =
        "id AS Id, name AS Name, description AS Description, placements AS Placements, mode AS Mode, variants AS Variants, status AS Status, " +
        "salt AS Salt, attribution_window_ms AS AttributionWindowMs, created_at AS CreatedAt, started_at AS StartedAt, stopped_at AS StoppedAt";

    private static readonly long Draft = (long)ExperimentStatus.Draft, Running = (long)ExperimentStatus.Running, Stopped = (long)ExperimentStatus.Stopped;

    public Task<Experiment?> GetExperimentAsync(string experimentId, CancellationToken ct) =>
        ReadAsync(async connection => (await connection.QueryFirstOrDefaultAsync<ExperimentRow>(new CommandDefinition(
            $"SELECT {ExperimentColumns} FROM experiments WHERE id = @experimentId", new { experimentId }, cancellationToken: ct)))?.ToExperiment(), ct);

    public Task<IReadOnlyList<Experiment>> ListExperimentsAsync(CancellationToken ct) =>
        ListAsync($"SELECT {ExperimentColumns} FROM experiments ORDER BY created_at DESC, id", ct);

    public Task<IReadOnlyList<Experiment>> ListRunningExperimentsAsync(CancellationToken ct) =>
        ListAsync($"SELECT {ExperimentColumns} FROM experiments WHERE status = {Running} ORDER BY id", ct);

    private Task<IReadOnlyList<Experiment>> ListAsync(string sql, CancellationToken ct) =>
        ReadAsync<IReadOnlyList<Experiment>>(async connection =>
            (await connection.QueryAsync<ExperimentRow>(new CommandDefinition(sql, cancellationToken: ct))).Select(r => r.ToExperiment()).ToList(), ct);

    public Task<Experiment> SaveDraftAsync(Experiment experiment, CancellationToken ct)
    {
        var row = ExperimentRow.From(experiment);
        return WriteAsync(transaction =>
        {
            _writer.Execute(
                $"""
                INSERT INTO experiments (id, name, description, placements, mode, variants, status, salt, attribution_window_ms, created_at)
                VALUES (@Id, @Name, @Description, @Placements, @Mode, @Variants, {Draft}, @Salt, @AttributionWindowMs, @CreatedAt)
                ON CONFLICT (id) DO UPDATE SET name = excluded.name, description = excluded.description, placements = excluded.placements,
                    mode = excluded.mode, variants = excluded.variants, salt = excluded.salt, attribution_window_ms = excluded.attribution_window_ms
                WHERE experiments.status = {Draft}
                """, row, transaction);
            return _writer.QuerySingle<ExperimentRow>($"SELECT {ExperimentColumns} FROM experiments WHERE id = @Id", row, transaction).ToExperiment();
        }, ct);
    }

    public Task<ExperimentTransition> StartExperimentAsync(string experimentId, DateTimeOffset at, CancellationToken ct) =>
        WriteAsync(transaction =>
        {
            // Under the write lock: no other start can slip in between the check and the update.
            var conflict = _writer.QueryFirstOrDefault<string>(
                $"""
                SELECT other.id FROM experiments me, experiments other
                WHERE me.id = @experimentId AND me.status = {Draft} AND other.status = {Running} AND other.id <> me.id
                    AND EXISTS (SELECT 1 FROM json_each(me.placements) mine JOIN json_each(other.placements) theirs ON mine.value = theirs.value)
                ORDER BY other.id LIMIT 1
                """, new { experimentId }, transaction);
            if (conflict is null)
            {
                _writer.Execute($"UPDATE experiments SET status = {Running}, started_at = @at WHERE id = @experimentId AND status = {Draft}",
                    new { experimentId, at = at.ToUnixTimeMilliseconds() }, transaction);
            }
            var row = _writer.QueryFirstOrDefault<ExperimentRow>($"SELECT {ExperimentColumns} FROM experiments WHERE id = @experimentId", new { experimentId }, transaction);
            return new ExperimentTransition(row?.ToExperiment(), conflict);
        }, ct);

    public Task<Experiment?> StopExperimentAsync(string experimentId, DateTimeOffset at, CancellationToken ct) =>
        WriteAsync(transaction =>
        {
            _writer.Execute($"UPDATE experiments SET status = {Stopped}, stopped_at = @at WHERE id = @experimentId AND status = {Running}",
                new { experimentId, at = at.ToUnixTimeMilliseconds() }, transaction);
            return _writer.QueryFirstOrDefault<ExperimentRow>($"SELECT {ExperimentColumns} FROM experiments WHERE id = @experimentId", new { experimentId }, transaction)
                ?.ToExperiment();
        }, ct);

    public Task RecordExposuresAsync(IReadOnlyList<Exposure> exposures, CancellationToken ct)
    {
        if (exposures.Count == 0) return Task.CompletedTask;
        return WriteAsync(transaction =>
        {
            _writer.Execute(
                """
                INSERT INTO exposures (recommendation_id, product_id, experiment_id, variant, team, user_id, position, occurred_at)
                VALUES (@RecommendationId, @ProductId, @ExperimentId, @Variant, @Team, @UserId, @Position, @At)
                ON CONFLICT DO NOTHING
                """,
                exposures.Select(e => new { e.RecommendationId, e.ProductId, e.ExperimentId, e.Variant, e.Team, e.UserId, e.Position, At = e.OccurredAt.ToUnixTimeMilliseconds() }),
                transaction);
            _writer.Execute(
                """
                INSERT INTO experiment_assignments (experiment_id, user_id, variant, first_at) VALUES (@ExperimentId, @UserId, @Variant, @At)
                ON CONFLICT (experiment_id, user_id) DO UPDATE SET first_at = min(first_at, excluded.first_at)
                """,
                exposures.GroupBy(e => (e.ExperimentId, e.UserId)).Select(g => new
                {
                    g.Key.ExperimentId, g.Key.UserId, g.First().Variant, At = g.Min(e => e.OccurredAt).ToUnixTimeMilliseconds(),
                }),
                transaction);
            return true;
        }, ct);
    }

    public Task<ExperimentTotals> GetTotalsAsync(TotalsQuery query, CancellationToken ct) =>
        ReadAsync(async connection =>
        {
            var parameters = new
            {
                id = query.ExperimentId,
                from = query.From.ToUnixTimeMilliseconds(),
                to = query.To.ToUnixTimeMilliseconds(),
                window = (long)query.AttributionWindow.TotalMilliseconds,
                pre = (long)query.PrePeriod.TotalMilliseconds,
            };
            // Temporary tables of this connection only: the exposed users and their credited events, read by the three sums below.
            await connection.ExecuteAsync(new CommandDefinition(CreditedEventsSql, parameters, cancellationToken: ct));
            try
            {
                var variants = (await connection.QueryAsync<VariantSumsRow>(new CommandDefinition(VariantSumsSql, parameters, cancellationToken: ct)))
                    .Select(r => r.ToTotals()).ToList();
                var daily = (await connection.QueryAsync<DailyRow>(new CommandDefinition(DailySql, parameters, cancellationToken: ct)))
                    .Select(r => r.ToTotals()).ToList();
                var experiment = await connection.QueryFirstOrDefaultAsync<ExperimentRow>(new CommandDefinition(
                    $"SELECT {ExperimentColumns} FROM experiments WHERE id = @id", parameters, cancellationToken: ct));
                InterleavingTotals? interleaving = null;
                if (experiment?.ToExperiment() is { Mode: ExperimentMode.Interleaving, Variants: [var a, var b] })
                {
                    var row = await connection.QuerySingleAsync<TeamRow>(new CommandDefinition(TeamsSql, new { a = a.Name, b = b.Name }, cancellationToken: ct));
                    interleaving = row.ToTotals(a.Name, b.Name);
                }
                return new ExperimentTotals(variants, interleaving, daily);
            }
            finally
            {
                await connection.ExecuteAsync(new CommandDefinition("DROP TABLE IF EXISTS temp.report_users; DROP TABLE IF EXISTS temp.report_credited; DROP TABLE IF EXISTS temp.report_exposures;", cancellationToken: ct));
            }
        }, ct);

    private static readonly string CreditedEventsSql = $"""
        CREATE TEMP TABLE report_exposures AS
            SELECT recommendation_id, product_id, variant, team, user_id, occurred_at FROM exposures
            WHERE experiment_id = @id AND occurred_at >= @from AND occurred_at < @to;
        CREATE INDEX temp.report_exposures_by_answer ON report_exposures (recommendation_id, product_id);
        CREATE INDEX temp.report_exposures_by_user ON report_exposures (user_id, product_id, occurred_at);
        CREATE TEMP TABLE report_users AS
            SELECT user_id, min(variant) AS variant, min(occurred_at) AS first_at, count(*) AS exposures
            FROM report_exposures GROUP BY user_id;
        CREATE TEMP TABLE report_credited AS
            SELECT e.event_id, e.user_id, e.type, e.price * e.quantity AS amount, e.occurred_at, u.variant,
                CASE WHEN e.recommendation_id IS NOT NULL
                    THEN (SELECT x.team FROM report_exposures x WHERE x.recommendation_id = e.recommendation_id AND x.product_id = e.product_id
                            AND x.user_id = e.user_id)
                    ELSE (SELECT x.team FROM report_exposures x WHERE x.user_id = e.user_id AND x.product_id = e.product_id
                            AND x.occurred_at <= e.occurred_at AND x.occurred_at >= e.occurred_at - @window
                          ORDER BY x.occurred_at DESC LIMIT 1)
                END AS team,
                e.recommendation_id IS NOT NULL
                    AND EXISTS (SELECT 1 FROM report_exposures x WHERE x.recommendation_id = e.recommendation_id AND x.user_id = e.user_id) AS by_answer
            FROM report_users u JOIN events e ON e.user_id = u.user_id
            WHERE e.type IN ({(int)EventType.Click}, {(int)EventType.AddToCart}, {(int)EventType.Purchase})
                AND e.occurred_at >= u.first_at AND e.occurred_at < @to;
        DELETE FROM report_credited WHERE NOT by_answer AND team IS NULL;
        """;

    private static readonly string VariantSumsSql = $"""
        WITH per_user AS (
            SELECT u.user_id, u.variant, u.exposures AS e,
                count(CASE WHEN c.type = {(int)EventType.Click} THEN 1 END) AS clicks,
                count(CASE WHEN c.type = {(int)EventType.AddToCart} THEN 1 END) AS carts,
                count(CASE WHEN c.type = {(int)EventType.Purchase} THEN 1 END) AS purchases,
                coalesce(sum(CASE WHEN c.type = {(int)EventType.Purchase} THEN c.amount END), 0.0) AS revenue
            FROM report_users u LEFT JOIN report_credited c ON c.user_id = u.user_id
            GROUP BY u.user_id, u.variant, u.exposures),
        pre AS (
            SELECT u.user_id, count(e.event_id) AS purchases, coalesce(sum(e.price * e.quantity), 0.0) AS revenue
            FROM report_users u LEFT JOIN events e ON e.user_id = u.user_id AND e.type = {(int)EventType.Purchase}
                AND e.occurred_at < u.first_at AND e.occurred_at >= u.first_at - @pre
            GROUP BY u.user_id)
        SELECT p.variant AS Variant,
            (SELECT count(*) FROM experiment_assignments a WHERE a.experiment_id = @id AND a.variant = p.variant AND a.first_at < @to) AS UsersAssigned,
            count(*) AS Users, sum(p.e) AS Exposures, sum(p.clicks) AS Clicks, sum(p.carts) AS Carts, sum(p.purchases) AS Purchases,
            sum(p.revenue) AS Revenue, sum(p.clicks * p.clicks) AS ClicksSquared, sum(p.e * p.e) AS ExposuresSquared,
            sum(p.clicks * p.e) AS ClicksTimesExposures, sum(p.purchases > 0) AS Converted, sum(p.revenue * p.revenue) AS RevenueSquared,
            sum(q.revenue) AS PreRevenue, sum(q.revenue * q.revenue) AS PreRevenueSquared, sum(q.revenue * p.revenue) AS PreRevenueTimesRevenue,
            sum(q.purchases) AS PrePurchases, sum(q.purchases * q.purchases) AS PrePurchasesSquared,
            sum(CASE WHEN p.purchases > 0 THEN q.purchases ELSE 0 END) AS PrePurchasesTimesConverted
        FROM per_user p JOIN pre q ON q.user_id = p.user_id
        GROUP BY p.variant
        ORDER BY p.variant
        """;

    private static readonly string DailySql = $"""
        SELECT Day, Variant, sum(Exposures) AS Exposures, sum(Clicks) AS Clicks, sum(Purchases) AS Purchases, sum(Revenue) AS Revenue FROM (
            SELECT strftime('%Y-%m-%d', occurred_at / 1000, 'unixepoch') AS Day, variant AS Variant, count(*) AS Exposures,
                0 AS Clicks, 0 AS Purchases, 0.0 AS Revenue
            FROM report_exposures GROUP BY 1, 2
            UNION ALL
            SELECT strftime('%Y-%m-%d', occurred_at / 1000, 'unixepoch'), variant, 0,
                count(CASE WHEN type = {(int)EventType.Click} THEN 1 END), count(CASE WHEN type = {(int)EventType.Purchase} THEN 1 END),
                coalesce(sum(CASE WHEN type = {(int)EventType.Purchase} THEN amount END), 0.0)
            FROM report_credited GROUP BY 1, 2)
        GROUP BY Day, Variant ORDER BY Day, Variant
        """;

    private static readonly string TeamsSql = $"""
        WITH per_user AS (
            SELECT user_id,
                count(CASE WHEN team = @a AND type = {(int)EventType.Click} THEN 1 END) AS clicks_a,
                count(CASE WHEN team = @b AND type = {(int)EventType.Click} THEN 1 END) AS clicks_b,
                count(CASE WHEN team = @a AND type = {(int)EventType.Purchase} THEN 1 END) AS purchases_a,
                count(CASE WHEN team = @b AND type = {(int)EventType.Purchase} THEN 1 END) AS purchases_b
            FROM report_credited WHERE team IS NOT NULL GROUP BY user_id)
        SELECT coalesce(sum(clicks_a), 0) AS ClicksA, coalesce(sum(clicks_b), 0) AS ClicksB,
            coalesce(sum(purchases_a), 0) AS PurchasesA, coalesce(sum(purchases_b), 0) AS PurchasesB,
            coalesce(sum(clicks_a + purchases_a > clicks_b + purchases_b), 0) AS PreferA,
            coalesce(sum(clicks_b + purchases_b > clicks_a + purchases_a), 0) AS PreferB,
            coalesce(sum(clicks_a + purchases_a = clicks_b + purchases_b AND clicks_a + purchases_a > 0), 0) AS Tied
        FROM per_user
        """;
}
