using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Wes.Persistence.Migrations.Sqlite
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
                    state = table.Column<string>(type: "TEXT", maxLength: 20, nullable: false),
                    shard = table.Column<int>(type: "INTEGER", nullable: false),
                    count = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_run_state_counts", x => new { x.state, x.shard });
                });

            // The triggers keep the counts in the transaction that changes a state, whichever statement does it.
            // SQLite has one writer at a time, so one shard (0) never makes writers queue for a row.
            migrationBuilder.Sql(
                """
                CREATE TRIGGER run_state_counts_insert AFTER INSERT ON runs
                BEGIN
                    INSERT INTO run_state_counts (state, shard, count) VALUES (NEW.state, 0, 1)
                    ON CONFLICT (state, shard) DO UPDATE SET count = count + 1;
                END;
                """);
            migrationBuilder.Sql(
                """
                CREATE TRIGGER run_state_counts_update AFTER UPDATE OF state ON runs WHEN OLD.state IS NOT NEW.state
                BEGIN
                    INSERT INTO run_state_counts (state, shard, count) VALUES (OLD.state, 0, -1)
                    ON CONFLICT (state, shard) DO UPDATE SET count = count - 1;
                    INSERT INTO run_state_counts (state, shard, count) VALUES (NEW.state, 0, 1)
                    ON CONFLICT (state, shard) DO UPDATE SET count = count + 1;
                END;
                """);
            migrationBuilder.Sql(
                """
                CREATE TRIGGER run_state_counts_delete AFTER DELETE ON runs
                BEGIN
                    INSERT INTO run_state_counts (state, shard, count) VALUES (OLD.state, 0, -1)
                    ON CONFLICT (state, shard) DO UPDATE SET count = count - 1;
                END;
                """);
            // Same transaction as the triggers, and SQLite lets no other writer in: no change is counted twice or missed.
            migrationBuilder.Sql("INSERT INTO run_state_counts (state, shard, count) SELECT state, 0, COUNT(*) FROM runs GROUP BY state;");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TRIGGER IF EXISTS run_state_counts_insert;");
            migrationBuilder.Sql("DROP TRIGGER IF EXISTS run_state_counts_update;");
            migrationBuilder.Sql("DROP TRIGGER IF EXISTS run_state_counts_delete;");

            migrationBuilder.DropTable(
                name: "run_state_counts");
        }
    }
}
