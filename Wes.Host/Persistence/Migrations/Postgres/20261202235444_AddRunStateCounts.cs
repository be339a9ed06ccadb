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
            // on one connection and out on another); the sum over a state's shards is exact. The two rows of a change are
            // locked in state-name order, so two transactions on the same shard cannot deadlock on them.
            migrationBuilder.Sql(
                """
                CREATE FUNCTION run_state_counts_track() RETURNS trigger LANGUAGE plpgsql AS $$
                DECLARE
                    this_shard integer := pg_backend_pid() % 16;
                    delta_states text[];
                    deltas bigint[];
                BEGIN
                    IF TG_OP = 'INSERT' THEN
                        delta_states := ARRAY[NEW.state]; deltas := ARRAY[1];
                    ELSIF TG_OP = 'DELETE' THEN
                        delta_states := ARRAY[OLD.state]; deltas := ARRAY[-1];
                    ELSIF OLD.state < NEW.state THEN
                        delta_states := ARRAY[OLD.state, NEW.state]; deltas := ARRAY[-1, 1];
                    ELSE
                        delta_states := ARRAY[NEW.state, OLD.state]; deltas := ARRAY[1, -1];
                    END IF;
                    FOR i IN 1 .. array_length(delta_states, 1) LOOP
                        INSERT INTO run_state_counts (state, shard, count) VALUES (delta_states[i], this_shard, deltas[i])
                        ON CONFLICT (state, shard) DO UPDATE SET count = run_state_counts.count + EXCLUDED.count;
                    END LOOP;
                    RETURN NULL;
                END;
                $$;
                """);
            migrationBuilder.Sql("CREATE TRIGGER run_state_counts_insert AFTER INSERT ON runs FOR EACH ROW EXECUTE FUNCTION run_state_counts_track();");
            migrationBuilder.Sql(
                """
                CREATE TRIGGER run_state_counts_update AFTER UPDATE OF state ON runs
                FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state) EXECUTE FUNCTION run_state_counts_track();
                """);
            migrationBuilder.Sql("CREATE TRIGGER run_state_counts_delete AFTER DELETE ON runs FOR EACH ROW EXECUTE FUNCTION run_state_counts_track();");
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
