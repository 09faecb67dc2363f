/** A file imported as its text (`./file?raw`), as Vite, which builds every bundle and runs the tests, gives it. */
declare module '*?raw' {
  const text: string;
  export default text;
}
