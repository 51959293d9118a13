export async function main(_argv: string[]): Promise<number> {
  console.error('edgelog demo: not available in this build yet');
  return 1;
}
