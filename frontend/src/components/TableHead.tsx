interface TableHeadProps {
  /** Column labels, in order. */
  columns: string[];
  /** Adds a last column headed "Actions" for screen readers only. */
  actions?: boolean;
  /** Drops the right padding of the last labelled column (for tables without actions). */
  flushLast?: boolean;
}

/** The header row of a data table, in the app's small uppercase style. */
export function TableHead({ columns, actions = false, flushLast = false }: TableHeadProps) {
  return (
    <thead className="text-xs tracking-wide text-slate-500 uppercase">
      <tr>
        {columns.map((label, index) => (
          <th
            key={label}
            className={flushLast && index === columns.length - 1 ? 'py-2' : 'py-2 pr-3'}
          >
            {label}
          </th>
        ))}
        {actions ? (
          <th className="py-2">
            <span className="sr-only">Actions</span>
          </th>
        ) : null}
      </tr>
    </thead>
  );
}
