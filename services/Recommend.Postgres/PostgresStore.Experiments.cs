using Dapper;
using Npgsql;
using Recommend.Core.Experiments;
using Recommend.Core.History;
using Recommend.Sql;

namespace Recommend.Postgres;

public sealed partial class PostgresStore : IExperimentStore
{
    private const string ExperimentColumns =
        "id as Id, name as Name, description as Description, placements::text as Placements, mode as Mode, variants::text as Variants, " +
        "status as Status, salt as Salt, attribution_window_ms as AttributionWindowMs, created_at as CreatedAt, started_at as StartedAt, " +
        "stopped_at as StoppedAt";

    private static readonly int Draft = (int)ExperimentStatus.Draft, Running = (int)ExperimentStatus.Running, Stopped = (int)ExperimentStatus.Stopped;

    public Task<Experiment?> GetExperimentAsync(string experimentId, CancellationToken ct) =>
        RunAsync(connection => ReadExperimentAsync(connection, null, experimentId, ct), ct);

    private static async Task<Experiment?> ReadExperimentAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string experimentId, CancellationToken ct) =>
        (await connection.QueryFirstOrDefaultAsync<ExperimentRow>(new CommandDefinition(
            $"select {ExperimentColumns} from experiments where id = @experimentId", new { experimentId }, transaction, cancellationToken: ct)))?.ToExperiment();

    public Task<IReadOnlyList<Experiment>> ListExperimentsAsync(CancellationToken ct) =>
        ListExperimentsAsync($"select {ExperimentColumns} from experiments order by created_at desc, id", ct);

    public Task<IReadOnlyList<Experiment>> ListRunningExperimentsAsync(CancellationToken ct) =>
        ListExperimentsAsync($"select {ExperimentColumns} from experiments where status = {Running} order by id", ct);

    private Task<IReadOnlyList<Experiment>> ListExperimentsAsync(string sql, CancellationToken ct) =>
        RunAsync<IReadOnlyList<Experiment>>(async connection =>
            (await connection.QueryAsync<ExperimentRow>(new CommandDefinition(sql, cancellationToken: ct))).Select(r => r.ToExperiment()).ToList(), ct);

    public Task<Experiment> SaveDraftAsync(Experiment experiment, CancellationToken ct) =>
        RunAsync(async connection =>
        {
            var row = ExperimentRow.From(experiment);
            await connection.ExecuteAsync(new CommandDefinition(
                $"""
                insert into experiments (id, name, description, placements, mode, variants, status, salt, attribution_window_ms, created_at)
                values (@Id, @Name, @Description, @Placements::jsonb, @Mode, @Variants::jsonb, {Draft}, @Salt, @AttributionWindowMs, @CreatedAt)
                on conflict (id) do update set name = excluded.name, description = excluded.description, placements = excluded.placements,
                    mode = excluded.mode, variants = excluded.variants, salt = excluded.salt, attribution_window_ms = excluded.attribution_window_ms
                where experiments.status = {Draft}
                """, row, cancellationToken: ct));
            return (await ReadExperimentAsync(connection, null, experiment.Id, ct))!;
        }, ct);

    public Task<ExperimentTransition> StartExperimentAsync(string experimentId, DateTimeOffset at, CancellationToken ct) =>
        RunAsync(async connection =>
        {
            await using var transaction = await connection.BeginTransactionAsync(ct);
            // Starts are serialised, so the placement check below cannot race another replica's start.
            await connection.ExecuteAsync(new CommandDefinition("select pg_advisory_xact_lock(@Class, @Object)",
                new { AdvisoryLocks.Class, Object = AdvisoryLocks.ExperimentStarts }, transaction, cancellationToken: ct));
            var conflict = await connection.QueryFirstOrDefaultAsync<string>(new CommandDefinition(
                $"""
                select other.id from experiments me, experiments other
                where me.id = @experimentId and me.status = {Draft} and other.status = {Running} and other.id <> me.id
                    and exists (select 1 from jsonb_array_elements_text(me.placements) mine
                                join jsonb_array_elements_text(other.placements) theirs on mine = theirs)
                order by other.id limit 1
                """, new { experimentId }, transaction, cancellationToken: ct));
            if (conflict is null)
            {
                await connection.ExecuteAsync(new CommandDefinition(
                    $"update experiments set status = {Running}, started_at = @at where id = @experimentId and status = {Draft}",
                    new { experimentId, at = at.ToUnixTimeMilliseconds() }, transaction, cancellationToken: ct));
            }
            var experiment = await ReadExperimentAsync(connection, transaction, experimentId, ct);
            await transaction.CommitAsync(ct);
            return new ExperimentTransition(experiment, conflict);
        }, ct);

    public Task<Experiment?> StopExperimentAsync(string experimentId, DateTimeOffset at, CancellationToken ct) =>
        RunAsync(async connection =>
        {
            await connection.ExecuteAsync(new CommandDefinition(
                $"update experiments set status = {Stopped}, stopped_at = @at where id = @experimentId and status = {Running}",
                new { experimentId, at = at.ToUnixTimeMilliseconds() }, cancellationToken: ct));
            return await ReadExperimentAsync(connection, null, experimentId, ct);
        }, ct);

    public Task RecordExposuresAsync(IReadOnlyList<Exposure> exposures, CancellationToken ct)
    {
        if (exposures.Count == 0) return Task.CompletedTask;
        var assignments = exposures.GroupBy(e => (e.ExperimentId, e.UserId)).Select(g => (g.Key.ExperimentId, g.Key.UserId, g.First().Variant, At: g.Min(e => e.OccurredAt))).ToList();
        return RunAsync(async connection =>
        {
            await using var transaction = await connection.BeginTransactionAsync(ct);
            await connection.ExecuteAsync(new CommandDefinition(
                """
                insert into exposures (recommendation_id, product_id, experiment_id, variant, team, user_id, position, occurred_at)
                select * from unnest(@Answers, @Products, @Experiments, @Variants, @Teams, @Users, @Positions, @Times)
                on conflict do nothing
                """,
                new
                {
                    Answers = exposures.Select(e => e.RecommendationId).ToArray(),
                    Products = exposures.Select(e => e.ProductId).ToArray(),
                    Experiments = exposures.Select(e => e.ExperimentId).ToArray(),
                    Variants = exposures.Select(e => e.Variant).ToArray(),
                    Teams = exposures.Select(e => e.Team).ToArray(),
                    Users = exposures.Select(e => e.UserId).ToArray(),
                    Positions = exposures.Select(e => e.Position).ToArray(),
                    Times = exposures.Select(e => e.OccurredAt.UtcDateTime).ToArray(),
                }, transaction, cancellationToken: ct));
            await connection.ExecuteAsync(new CommandDefinition(
                """
                insert into experiment_assignments (experiment_id, user_id, variant, first_at)
                select * from unnest(@Experiments, @Users, @Variants, @Times)
                on conflict (experiment_id, user_id) do update set first_at = least(experiment_assignments.first_at, excluded.first_at)
                """,
                new
                {
                    Experiments = assignments.Select(a => a.ExperimentId).ToArray(),
                    Users = assignments.Select(a => a.UserId).ToArray(),
                    Variants = assignments.Select(a => a.Variant).ToArray(),
                    Times = assignments.Select(a => a.At.UtcDateTime).ToArray(),
                }, transaction, cancellationToken: ct));
            await transaction.CommitAsync(ct);
        }, ct);
    }

    public Task<ExperimentTotals> GetTotalsAsync(TotalsQuery query, CancellationToken ct) =>
        RunAsync(async connection =>
        {
            await using var transaction = await connection.BeginTransactionAsync(ct);
            var experiment = await ReadExperimentAsync(connection, transaction, query.ExperimentId, ct);
            var parameters = new
            {
                id = query.ExperimentId, from = query.From.UtcDateTime, to = query.To.UtcDateTime, window = query.AttributionWindow, pre = query.PrePeriod,
                interleaving = experiment?.Mode == ExperimentMode.Interleaving,
            };
            // Temporary tables of this transaction: the exposed users and their credited events, read by the sums below.
            await connection.ExecuteAsync(new CommandDefinition(CreditedEventsSql, parameters, transaction, cancellationToken: ct));
            var variants = (await connection.QueryAsync<VariantSumsRow>(new CommandDefinition(VariantSumsSql, parameters, transaction, cancellationToken: ct)))
                .Select(r => r.ToTotals()).ToList();
            var daily = (await connection.QueryAsync<DailyRow>(new CommandDefinition(DailySql, parameters, transaction, cancellationToken: ct)))
                .Select(r => r.ToTotals()).ToList();
            InterleavingTotals? interleaving = null;
            if (experiment is { Mode: ExperimentMode.Interleaving, Variants: [var a, var b] })
            {
                var row = await connection.QuerySingleAsync<TeamRow>(new CommandDefinition(TeamsSql, new { a = a.Name, b = b.Name }, transaction, cancellationToken: ct));
                interleaving = row.ToTotals(a.Name, b.Name);
            }
            await transaction.CommitAsync(ct);
            return new ExperimentTotals(variants, interleaving, daily);
        }, ct);

    private static readonly string CreditedEventsSql = $"""
        -- One pass over the exposures, grouped two ways: per user (first exposure, count) and per UTC day and variant.
        create temp table report_scan on commit drop as
            select user_id, date_trunc('day', occurred_at, 'UTC') as day, variant, min(variant) as user_variant,
                min(occurred_at) as first_at, count(*) as exposures
            from exposures where experiment_id = @id and occurred_at >= @from and occurred_at < @to
            group by grouping sets ((user_id), (date_trunc('day', occurred_at, 'UTC'), variant));
        create temp table report_users on commit drop as
            select user_id, user_variant as variant, first_at, exposures from report_scan where user_id is not null;
        analyze report_users;
        -- An event counts by its answer (quoting an answer shown to that user) or, without one, by an exposure of the same
        -- product to the same user within the window. Teams matter only when interleaving (in A/B the team is the variant).
        -- The answer check is a scalar subquery so that it stays a probe of the primary key per event (as an EXISTS it
        -- gets planned as a hash of every exposure of the experiment).
        create temp table report_credited on commit drop as
            select e.event_id, e.user_id, e.type, e.price * e.quantity as amount, e.occurred_at, u.variant,
                case when e.recommendation_id is null
                    then (select x.team from exposures x where x.experiment_id = @id and x.user_id = e.user_id and x.product_id = e.product_id
                            and x.occurred_at <= e.occurred_at and x.occurred_at >= e.occurred_at - @window and x.occurred_at >= @from
                          order by x.occurred_at desc limit 1)
                    when @interleaving
                    then (select x.team from exposures x where x.recommendation_id = e.recommendation_id and x.product_id = e.product_id
                            and x.user_id = e.user_id)
                end as team,
                e.recommendation_id is not null and (select true from exposures x where x.recommendation_id = e.recommendation_id
                    and x.experiment_id = @id and x.user_id = e.user_id and x.occurred_at >= @from and x.occurred_at < @to limit 1) is not null
                    as by_answer
            from report_users u join events e on e.user_id = u.user_id
            where e.type in ({(int)EventType.Click}, {(int)EventType.AddToCart}, {(int)EventType.Purchase})
                and e.occurred_at >= u.first_at and e.occurred_at < @to;
        delete from report_credited where not by_answer and team is null;
        analyze report_credited;
        """;

    private static readonly string VariantSumsSql = $"""
        with per_user as (
            select u.user_id, u.variant, u.exposures as e,
                count(*) filter (where c.type = {(int)EventType.Click}) as clicks,
                count(*) filter (where c.type = {(int)EventType.AddToCart}) as carts,
                count(*) filter (where c.type = {(int)EventType.Purchase}) as purchases,
                coalesce(sum(c.amount) filter (where c.type = {(int)EventType.Purchase}), 0) as revenue
            from report_users u left join report_credited c on c.user_id = u.user_id
            group by u.user_id, u.variant, u.exposures),
        pre as (
            select u.user_id, count(e.event_id) as purchases, coalesce(sum(e.price * e.quantity), 0) as revenue
            from report_users u left join events e on e.user_id = u.user_id and e.type = {(int)EventType.Purchase}
                and e.occurred_at < u.first_at and e.occurred_at >= u.first_at - @pre
            group by u.user_id)
        select p.variant as Variant,
            (select count(*) from experiment_assignments a where a.experiment_id = @id and a.variant = p.variant and a.first_at < @to) as UsersAssigned,
            count(*) as Users, sum(p.e)::bigint as Exposures, sum(p.clicks)::bigint as Clicks, sum(p.carts)::bigint as Carts,
            sum(p.purchases)::bigint as Purchases, sum(p.revenue)::float8 as Revenue, sum(p.clicks * p.clicks)::float8 as ClicksSquared,
            sum(p.e * p.e)::float8 as ExposuresSquared, sum(p.clicks * p.e)::float8 as ClicksTimesExposures,
            count(*) filter (where p.purchases > 0) as Converted, sum(p.revenue * p.revenue)::float8 as RevenueSquared,
            sum(q.revenue)::float8 as PreRevenue, sum(q.revenue * q.revenue)::float8 as PreRevenueSquared,
            sum(q.revenue * p.revenue)::float8 as PreRevenueTimesRevenue, sum(q.purchases)::float8 as PrePurchases,
            sum(q.purchases * q.purchases)::float8 as PrePurchasesSquared,
            coalesce(sum(q.purchases) filter (where p.purchases > 0), 0)::float8 as PrePurchasesTimesConverted
        from per_user p join pre q on q.user_id = p.user_id
        group by p.variant
        order by p.variant
        """;

    private static readonly string DailySql = $"""
        select to_char(day, 'YYYY-MM-DD') as Day, Variant, sum(Exposures)::bigint as Exposures, sum(Clicks)::bigint as Clicks,
            sum(Purchases)::bigint as Purchases, sum(Revenue)::float8 as Revenue
        from (
            select day, variant as Variant, exposures as Exposures, 0::bigint as Clicks, 0::bigint as Purchases, 0::float8 as Revenue
            from report_scan where user_id is null
            union all
            select date_trunc('day', occurred_at, 'UTC'), variant, 0,
                count(*) filter (where type = {(int)EventType.Click}), count(*) filter (where type = {(int)EventType.Purchase}),
                coalesce(sum(amount) filter (where type = {(int)EventType.Purchase}), 0)
            from report_credited group by 1, 2) days
        group by day, Variant order by day, Variant
        """;

    private static readonly string TeamsSql = $"""
        with per_user as (
            select user_id,
                count(*) filter (where team = @a and type = {(int)EventType.Click}) as clicks_a,
                count(*) filter (where team = @b and type = {(int)EventType.Click}) as clicks_b,
                count(*) filter (where team = @a and type = {(int)EventType.Purchase}) as purchases_a,
                count(*) filter (where team = @b and type = {(int)EventType.Purchase}) as purchases_b
            from report_credited where team is not null group by user_id)
        select coalesce(sum(clicks_a), 0)::bigint as ClicksA, coalesce(sum(clicks_b), 0)::bigint as ClicksB,
            coalesce(sum(purchases_a), 0)::bigint as PurchasesA, coalesce(sum(purchases_b), 0)::bigint as PurchasesB,
            count(*) filter (where clicks_a + purchases_a > clicks_b + purchases_b) as PreferA,
            count(*) filter (where clicks_b + purchases_b > clicks_a + purchases_a) as PreferB,
            count(*) filter (where clicks_a + purchases_a = clicks_b + purchases_b and clicks_a + purchases_a > 0) as Tied
        from per_user
        """;
}
