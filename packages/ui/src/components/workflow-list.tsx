/** Every workflow the server serves; choosing one shows it. */
export function WorkflowList({
  workflows,
  selected,
  onSelect,
  error,
}: {
  workflows: string[] | undefined;
  selected: string | null;
  onSelect: (name: string) => void;
  error: string | null;
}) {
  return (
    <nav className="panel-section" aria-labelledby="workflows-heading">
      <h2 id="workflows-heading" className="section-title">
        Workflows
      </h2>
      {error && <p className="error-text">{error}</p>}
      {workflows === undefined && !error && <p className="muted">Loading…</p>}
      {workflows?.length === 0 && <p className="muted">The server serves no workflows.</p>}
      <ul className="plain-list" aria-label="Workflows">
        {workflows?.map((name) => (
          <li key={name}>
            <button
              type="button"
              className={name === selected ? "list-item selected" : "list-item"}
              aria-current={name === selected ? "page" : undefined}
              onClick={() => onSelect(name)}
            >
              {name}
            </button>
          </li>
        ))}
      </ul>
    </nav>
  );
}
