/**
 * A list table's header: a column per label (those in `numeric` right-aligned, as their cells are)
 * and a last one over each row's buttons, named for screen readers only.
 */
export function TableHead({ columns, numeric = [] }: { columns: string[]; numeric?: string[] }) {
  return (
    <thead>
      <tr>
        {columns.map((label) => (
          <th key={label} scope="col" className={numeric.includes(label) ? 'num' : undefined}>
            {label}
          </th>
        ))}
        <th scope="col">
          <span className="visually-hidden">Actions</span>
        </th>
      </tr>
    </thead>
  );
}
