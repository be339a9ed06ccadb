using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Wes.Persistence.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class AddRunStateCounts : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "run_state_counts",
                columns: table => new
                {
                    state = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    shard = table.Column<int>(type: "integer", nullable: false),
                    count = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_run_state_counts", x => new { x.state, x.shard });
                });

            // Writers wait here until the triggers exist and the counts are filled, so no change is missed or counted twice.
            migrationBuilder.Sql("LOCK TABLE runs IN SHARE ROW EXCLUSIVE MODE;");
            // The triggers keep the counts in the transaction that changes a state, whichever statement does it.
            // Each backend adds to its own shard (pid % 16): with one row per state, every connection changing a state
            // would queue on that row's lock until the other's commit. A shard alone may go negative (a run counted in
            // on one connection and out on another); the sum over a state's shards is exact.
            // Per statement, from the transition tables, rather than per row: updating one row many times in a
            // transaction leaves a version per update, so a bulk insert or delete would slow down quadratically.
            // Rows are written in state order, so two transactions on the same shard cannot deadlock on them.
            migrationBuilder.Sql(
                """
                CREATE FUNCTION run_state_counts_track() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF TG_OP = 'INSERT' THEN
                        INSERT INTO run_state_counts (state, shard, count)
                        SELECT state, pg_backend_pid() % 16, COUNT(*) FROM new_runs GROUP BY state ORDER BY state
                        ON CONFLICT (state, shard) DO UPDATE SET count = run_state_counts.count + EXCLUDED.count;
                    ELSIF TG_OP = 'DELETE' THEN
                        INSERT INTO run_state_counts (state, shard, count)
                        SELECT state, pg_backend_pid() % 16, -COUNT(*) FROM old_runs GROUP BY state ORDER BY state
                        ON CONFLICT (state, shard) DO UPDATE SET count = run_state_counts.count + EXCLUDED.count;
                    ELSE
                        INSERT INTO run_state_counts (state, shard, count)
                        SELECT state, pg_backend_pid() % 16, SUM(delta) FROM (
                            SELECT o.state, -1 AS delta FROM old_runs o JOIN new_runs n ON n.seq = o.seq WHERE o.state <> n.state
                            UNION ALL
                            SELECT n.state, 1 AS delta FROM old_runs o JOIN new_runs n ON n.seq = o.seq WHERE o.state <> n.state
                        ) AS changes
                        GROUP BY state HAVING SUM(delta) <> 0 ORDER BY state
                        ON CONFLICT (state, shard) DO UPDATE SET count = run_state_counts.count + EXCLUDED.count;
                    END IF;
                    RETURN NULL;
                END;
                $$;
                """);
            // PostgreSQL allows no column list (UPDATE OF state) with transition tables; the function skips unchanged states.
            migrationBuilder.Sql(
                """
                CREATE TRIGGER run_state_counts_insert AFTER INSERT ON runs
                REFERENCING NEW TABLE AS new_runs FOR EACH STATEMENT EXECUTE FUNCTION run_state_counts_track();
                """);
            migrationBuilder.Sql(
                """
                CREATE TRIGGER run_state_counts_update AFTER UPDATE ON runs
                REFERENCING OLD TABLE AS old_runs NEW TABLE AS new_runs FOR EACH STATEMENT EXECUTE FUNCTION run_state_counts_track();
                """);
            migrationBuilder.Sql(
                """
                CREATE TRIGGER run_state_counts_delete AFTER DELETE ON runs
                REFERENCING OLD TABLE AS old_runs FOR EACH STATEMENT EXECUTE FUNCTION run_state_counts_track();
                """);
            migrationBuilder.Sql("INSERT INTO run_state_counts (state, shard, count) SELECT state, 0, COUNT(*) FROM runs GROUP BY state;");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TRIGGER IF EXISTS run_state_counts_insert ON runs;");
            migrationBuilder.Sql("DROP TRIGGER IF EXISTS run_state_counts_update ON runs;");
            migrationBuilder.Sql("DROP TRIGGER IF EXISTS run_state_counts_delete ON runs;");
            migrationBuilder.Sql("DROP FUNCTION IF EXISTS run_state_counts_track();");

            migrationBuilder.DropTable(
                name: "run_state_counts");
        }
    }
}
