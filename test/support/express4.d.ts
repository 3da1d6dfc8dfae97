// express4 is `npm:express@^4`, installed beside Express 5 so both majors are tested; its API is
// typed with the Express types the tests use (the middleware itself depends on neither).
declare module 'express4' {
  import express from 'express';
  export default express;
}
